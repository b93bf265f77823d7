/*
 * links: scopectl link create|list|revoke, the client's links to the
 * portal (scope/link.h).  The token is made here and only its SHA-256 is
 * sent: the URL is printed once, and nobody can print it again.
 */
#ifndef SCOPECTL_LINKS_H
#define SCOPECTL_LINKS_H

int cmd_link(int argc, char **argv);

#endif

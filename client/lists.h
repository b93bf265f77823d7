/*
 * lists: `scopectl projects`, the projects an identity sees, each with its
 * client, currency, contract value, open changes and last activity.
 */
#ifndef SCOPECTL_LISTS_H
#define SCOPECTL_LISTS_H

int cmd_projects(int argc, char **argv);

#endif

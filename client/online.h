/* online: the commands that talk to scoped. */
#ifndef SCOPECTL_ONLINE_H
#define SCOPECTL_ONLINE_H

int cmd_online(const char *cmd, int argc, char **argv);

#endif

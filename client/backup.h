/* backup: scopectl backup -o FILE, an online backup streamed over TLS. */
#ifndef SCOPECTL_BACKUP_H
#define SCOPECTL_BACKUP_H

int cmd_backup(int argc, char **argv);

#endif

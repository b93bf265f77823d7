/*
 * orders: the commands that record the change-order history: project,
 * baseline, change (raise, assess, quote), respond, evidence, invoice,
 * payment and void.  Each builds the entry body from flags, records it,
 * reads it back, proves it against the signed checkpoint and can write a
 * receipt for the other party.
 */
#ifndef SCOPECTL_ORDERS_H
#define SCOPECTL_ORDERS_H

int cmd_orders(const char *cmd, int argc, char **argv);

#endif

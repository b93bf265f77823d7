/*
 * cases: the commands that record a complaint case's four stages: case
 * open (intake), investigate, determine and respond.  case risk, which
 * records nothing, is a view (views.c).
 */
#ifndef SCOPECTL_CASES_H
#define SCOPECTL_CASES_H

int cmd_case(int argc, char **argv);

#endif

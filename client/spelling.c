#include "spelling.h"

char *spelling_enum(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = '_';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

char *spelling_upper(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return s;
}

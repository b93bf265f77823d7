/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput on every file in the
 * directories given, once each (seed corpus and regressions).  TAP output.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			FILE *f = fopen(path, "rb");
			if (f == NULL)
				continue;
			static uint8_t buf[4 << 20];
			size_t len = fread(buf, 1, sizeof buf, f);
			fclose(f);
			/* a copy of exactly len bytes, so overreads are caught */
			uint8_t *copy = malloc(len ? len : 1);
			memcpy(copy, buf, len);
			LLVMFuzzerTestOneInput(copy, len);
			free(copy);
			printf("ok %d - %s\n", ++n, path);
		}
		closedir(d);
	}
	printf("1..%d\n", n);
	return n == 0;
}

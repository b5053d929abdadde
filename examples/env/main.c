// env prints its environment, one K=V per line sorted bytewise, then its
// arguments as argv[i]=value (OpenFaaS ABI). Handy to see exactly what the
// ABI hands a function: Http_* variables, envVars, fprocess, secrets paths.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
	size_t n = 0;
	while (environ != NULL && environ[n] != NULL)
		n++;
	char **sorted = malloc((n + 1) * sizeof *sorted);
	if (sorted == NULL) {
		fputs("env: out of memory\n", stderr);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = environ[i];
	qsort(sorted, n, sizeof *sorted, cmp);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", sorted[i]);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	free(sorted);
	return fflush(stdout) == 0 ? 0 : 1;
}

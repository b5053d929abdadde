// stderr writes "line 1", "line 2", "line 3" to stderr (one per line), then
// "ok\n" to stdout, and exits 0. It tests that stderr goes to the function's
// logs, line by line, and never into the response body.
#include <stdio.h>

int main(void) {
	for (int i = 1; i <= 3; i++)
		fprintf(stderr, "line %d\n", i);
	fputs("ok\n", stdout);
	return 0;
}

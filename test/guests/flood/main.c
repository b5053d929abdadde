// flood writes 64 KiB blocks of 'x' to stdout forever: gigabytes of output in
// seconds. It tests that the host caps captured output instead of buffering
// it all. Behaviour: it keeps writing while writes succeed; when a write fails
// (a host that enforces its cap by failing writes) it writes
// "flood: write failed after <N> bytes" to stderr and exits 1. A host that
// silently discards output beyond its cap sees an endless writer that only the
// invocation deadline stops.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(void) {
	memset(buf, 'x', sizeof buf);
	unsigned long long total = 0;
	for (;;) {
		ssize_t n = write(1, buf, sizeof buf);
		if (n < 0) {
			fprintf(stderr, "flood: write failed after %llu bytes\n", total);
			return 1;
		}
		total += (unsigned long long)n;
	}
}

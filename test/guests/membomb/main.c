// membomb allocates 1 MiB chunks and writes to every 4 KiB page of each (so
// the memory is really committed), keeping them all reachable through a
// linked list in a volatile global so clang cannot elide the allocations.
//
// Behaviour: when malloc returns NULL (memory.grow refused: the runtime's
// memory cap, or the 4 GiB wasm32 limit), it writes
// "membomb: malloc failed after <N> MiB" to stderr and aborts, which traps
// (unreachable). So a memory cap shows up promptly as a failed invocation, and
// a test can read N from the logs and check it is below the cap. Without a cap
// it stops at 4 GiB of linear memory.
#include <stdio.h>
#include <stdlib.h>

#define CHUNK (1024 * 1024)
#define PAGE 4096

struct chunk {
	struct chunk *next;
};

static struct chunk *volatile head;

int main(void) {
	unsigned long mib = 0;
	for (;;) {
		volatile char *p = malloc(CHUNK);
		if (p == NULL) {
			fprintf(stderr, "membomb: malloc failed after %lu MiB\n", mib);
			abort();
		}
		for (size_t i = 0; i < CHUNK; i += PAGE)
			p[i] = (char)i | 1;
		struct chunk *c = (struct chunk *)p;
		c->next = head;
		head = c;
		mib++;
	}
}

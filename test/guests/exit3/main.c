// exit3 prints "bye\n" to stdout and exits with status 3 (proc_exit(3)): a
// non-zero exit that is not a trap. Under the OpenFaaS ABI this is a 500.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
	fputs("bye\n", stdout);
	fflush(stdout);
	exit(3);
}

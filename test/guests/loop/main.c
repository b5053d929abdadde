// loop spins forever without touching memory or doing I/O: the only way to
// stop it is the invocation deadline (wazero's close-on-context-done). The
// volatile counter keeps clang from deleting the loop (an infinite loop
// without side effects is undefined behaviour in C).
int main(void) {
	volatile unsigned long counter = 0;
	for (;;)
		counter++;
}

// trap executes the Wasm `unreachable` instruction straight away: the
// invocation fails with a trap (not an exit code), with no output.
int main(void) {
	__builtin_trap();
}

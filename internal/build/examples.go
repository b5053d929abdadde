package build

// Example describes one example function in examples/.
type Example struct {
	Name     string            // function name, e.g. "hello"
	Lang     string            // "go" | "c"
	Dir      string            // relative to the repo root, e.g. "examples/hello"
	ABI      string            // "openfaas" | "wagi"
	Image    string            // tag to push as, e.g. "sigil/hello:latest"
	FProcess string            // optional envProcess
	EnvVars  map[string]string // optional
}

// Examples returns the example functions shipped in examples/, in a stable
// order. Each call returns fresh values, so callers may modify them.
func Examples() []Example {
	return []Example{
		example("hello", "go", "openfaas", nil),
		example("echo", "c", "openfaas", nil),
		example("env", "c", "openfaas", nil),
		example("coreutils", "go", "openfaas", nil),
		example("redirect", "c", "wagi", map[string]string{"destination": "https://example.com/"}),
		example("gif", "go", "openfaas", map[string]string{"content_type": "image/gif"}),
	}
}

func example(name, lang, abi string, env map[string]string) Example {
	return Example{
		Name:    name,
		Lang:    lang,
		Dir:     "examples/" + name,
		ABI:     abi,
		Image:   "sigil/" + name + ":latest",
		EnvVars: env,
	}
}

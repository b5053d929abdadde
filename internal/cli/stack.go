package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
	"gopkg.in/yaml.v3"
)

// stack is faas-cli's stack.yml (openfaas-api.md §12), plus Sigil's per
// function `wasm` and `abi`. Fields that only matter for container builds
// (lang, handler, build_*) are read and ignored.
type stack struct {
	Version  string `yaml:"version"`
	Provider struct {
		Name    string `yaml:"name"`
		Gateway string `yaml:"gateway"`
	} `yaml:"provider"`
	Functions map[string]stackFunction `yaml:"functions"`

	dir string // directory of the file; relative paths start here
}

type stackFunction struct {
	Lang                   string            `yaml:"lang"`
	Handler                string            `yaml:"handler"`
	Image                  string            `yaml:"image"`
	FProcess               string            `yaml:"fprocess"`
	Environment            map[string]string `yaml:"environment"`
	EnvironmentFile        []string          `yaml:"environment_file"`
	Secrets                []string          `yaml:"secrets"`
	Labels                 map[string]string `yaml:"labels"`
	Annotations            map[string]string `yaml:"annotations"`
	Limits                 *stackResources   `yaml:"limits"`
	Requests               *stackResources   `yaml:"requests"`
	ReadOnlyRootFilesystem bool              `yaml:"readonly_root_filesystem"`
	Namespace              string            `yaml:"namespace"`
	Constraints            []string          `yaml:"constraints"`
	SkipBuild              bool              `yaml:"skip_build"`

	// Sigil extensions.
	Wasm string `yaml:"wasm"` // a .wasm file pushed (tagged with image) before deploying
	ABI  string `yaml:"abi"`  // openfaas, wagi or pooled, sent with the push
}

type stackResources struct {
	Memory string `yaml:"memory"`
	CPU    string `yaml:"cpu"`
}

// defaultStackFiles are tried, in order, when a command needs a stack file
// and none was named.
var defaultStackFiles = []string{"sigil.yml", "sigil.yaml", "stack.yml", "stack.yaml"}

// findStackFile returns the first default stack file in the working
// directory, or "".
func findStackFile() string {
	for _, f := range defaultStackFiles {
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}

// loadStack reads a stack file, substituting ${VAR} from the environment
// first when envsubst is set.
func loadStack(file string, envsubst bool) (*stack, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read stack file: %w", err)
	}
	text := string(b)
	if envsubst {
		text = expandEnv(text)
	}
	var s stack
	if err := yaml.Unmarshal([]byte(text), &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	switch s.Provider.Name {
	case "", "openfaas", "sigil":
	default:
		return nil, fmt.Errorf("%s: provider.name %q: want openfaas or sigil", file, s.Provider.Name)
	}
	if len(s.Functions) == 0 {
		return nil, fmt.Errorf("%s: no functions", file)
	}
	s.dir = filepath.Dir(file)
	for name, fn := range s.Functions {
		switch fn.ABI {
		case "", client.ABIOpenFaaS, client.ABIWagi, client.ABIPooled:
		default:
			return nil, fmt.Errorf("%s: function %s: abi %q: want openfaas, wagi or pooled", file, name, fn.ABI)
		}
	}
	return &s, nil
}

// expandEnv substitutes $VAR and ${VAR} like os.ExpandEnv, and also
// ${VAR:-default} (default when unset or empty) and ${VAR-default} (default
// when unset), the forms drone/envsubst gives faas-cli users.
func expandEnv(s string) string {
	return os.Expand(s, func(expr string) string {
		if name, def, ok := strings.Cut(expr, ":-"); ok {
			if v := os.Getenv(name); v != "" {
				return v
			}
			return def
		}
		if name, def, ok := strings.Cut(expr, "-"); ok {
			if v, set := os.LookupEnv(name); set {
				return v
			}
			return def
		}
		return os.Getenv(expr)
	})
}

// selected returns the names of the functions matching filter (a
// path.Match pattern; empty matches all), sorted.
func (s *stack) selected(filter string) ([]string, error) {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(s.Functions)) {
		if filter != "" {
			ok, err := path.Match(filter, name)
			if err != nil {
				return nil, fmt.Errorf("--filter %q: %w", filter, err)
			}
			if !ok {
				continue
			}
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no function matches --filter %q", filter)
	}
	return names, nil
}

// path resolves p relative to the stack file's directory.
func (s *stack) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}

// deployment maps one function to the body faas-cli would send: labels and
// annotations always present, limits/requests only when set, environment
// files overriding inline environment (later files win).
func (s *stack) deployment(name, namespace string) (client.FunctionDeployment, error) {
	fn := s.Functions[name]
	if fn.Image == "" {
		return client.FunctionDeployment{}, fmt.Errorf("function %s: image is empty", name)
	}
	env := maps.Clone(fn.Environment)
	for _, f := range fn.EnvironmentFile {
		fileEnv, err := readEnvFile(s.path(f))
		if err != nil {
			return client.FunctionDeployment{}, fmt.Errorf("function %s: %w", name, err)
		}
		if env == nil {
			env = map[string]string{}
		}
		maps.Copy(env, fileEnv)
	}
	if namespace == "" {
		namespace = fn.Namespace
	}
	labels, annotations := maps.Clone(fn.Labels), maps.Clone(fn.Annotations)
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	return client.FunctionDeployment{
		Service:                name,
		Image:                  fn.Image,
		Namespace:              namespace,
		EnvProcess:             fn.FProcess,
		EnvVars:                env,
		Constraints:            fn.Constraints,
		Secrets:                fn.Secrets,
		Labels:                 &labels,
		Annotations:            &annotations,
		Limits:                 resources(fn.Limits),
		Requests:               resources(fn.Requests),
		ReadOnlyRootFilesystem: fn.ReadOnlyRootFilesystem,
	}, nil
}

func resources(r *stackResources) *client.FunctionResources {
	if r == nil || (r.Memory == "" && r.CPU == "") {
		return nil
	}
	return &client.FunctionResources{Memory: r.Memory, CPU: r.CPU}
}

// readEnvFile reads a faas-cli environment file: YAML with an
// `environment:` map.
func readEnvFile(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("environment_file %s does not exist", file)
	}
	if err != nil {
		return nil, fmt.Errorf("read environment_file: %w", err)
	}
	var f struct {
		Environment map[string]string `yaml:"environment"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse environment_file %s: %w", file, err)
	}
	return f.Environment, nil
}

package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

// deployFlags are faas-cli deploy's flags plus Sigil's --wasm/--abi.
type deployFlags struct {
	image, name, fprocess, namespace   string
	env, labels, annotations           []string
	secrets, constraints               []string
	memLimit, cpuLimit, memReq, cpuReq string
	readonly, update, envsubst         bool
	yamlFile, filter                   string
	wasm, abi                          string
}

func newDeployCommand(g *globals) *cobra.Command {
	var fl deployFlags
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy functions from flags or a stack file",
		Long: "deploy creates or updates functions (PUT /system/functions, POST when the function is new).\n" +
			"With -f it reads a faas-cli stack file; a function with `wasm: file.wasm` is pushed first,\n" +
			"tagged with its image. Without --image or -f it looks for sigil.yml, sigil.yaml, stack.yml, stack.yaml.",
		Example: "  sigil deploy --image hello:latest --name hello --env greeting=hi\n" +
			"  sigil deploy --image cgi:1 --name cgi --wasm cgi.wasm --abi wagi\n" +
			"  sigil deploy -f sigil.yml --filter hello",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl.yamlFile != "" && (fl.image != "" || fl.name != "") {
				return usagef(cmd, "give either -f or --image/--name, not both")
			}
			if err := checkABI(cmd, fl.abi); err != nil {
				return err
			}
			if fl.yamlFile == "" && fl.image == "" && fl.name == "" {
				fl.yamlFile = findStackFile()
			}
			if fl.yamlFile != "" {
				return deployStack(cmd, g, &fl)
			}
			return deployFromFlags(cmd, g, &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.image, "image", "", "image (tag or sha256 digest) of a pushed artifact")
	f.StringVar(&fl.name, "name", "", "function name")
	f.StringVar(&fl.fprocess, "fprocess", "", "the process line: argv of the module (env fprocess)")
	f.StringVarP(&fl.namespace, "namespace", "n", "", "namespace (default: the server's)")
	f.StringArrayVarP(&fl.env, "env", "e", nil, "environment variable key=value (repeatable)")
	f.StringArrayVarP(&fl.labels, "label", "l", nil, "label key=value (repeatable)")
	f.StringArrayVar(&fl.annotations, "annotation", nil, "annotation key=value (repeatable)")
	f.StringArrayVar(&fl.secrets, "secret", nil, "secret mounted at /var/openfaas/secrets/<name> (repeatable)")
	f.StringArrayVar(&fl.constraints, "constraint", nil, "placement constraint (repeatable)")
	f.StringVar(&fl.memLimit, "memory-limit", "", "memory limit, e.g. 64Mi")
	f.StringVar(&fl.cpuLimit, "cpu-limit", "", "cpu limit, e.g. 100m")
	f.StringVar(&fl.memReq, "memory-request", "", "memory request, e.g. 32Mi")
	f.StringVar(&fl.cpuReq, "cpu-request", "", "cpu request, e.g. 50m")
	f.BoolVar(&fl.readonly, "readonly", false, "read-only root file system")
	f.BoolVar(&fl.update, "update", true, "update an existing function (PUT, then POST when it is new); false: POST only")
	f.StringVarP(&fl.yamlFile, "yaml", "f", "", "stack file (faas-cli stack.yml shape)")
	f.StringVar(&fl.filter, "filter", "", "with -f: deploy only functions whose name matches this pattern")
	f.BoolVar(&fl.envsubst, "envsubst", true, "with -f: substitute ${VAR} from the environment")
	f.StringVar(&fl.wasm, "wasm", "", "push this .wasm file, tagged with --image, before deploying")
	f.StringVar(&fl.abi, "abi", "", "with --wasm: openfaas, wagi or pooled")
	return cmd
}

func deployFromFlags(cmd *cobra.Command, g *globals, fl *deployFlags) error {
	if fl.image == "" || fl.name == "" {
		return usagef(cmd, "give --image and --name, or -f sigil.yml")
	}
	env, err := parseKV(cmd, "env", fl.env)
	if err != nil {
		return err
	}
	labels, err := parseKV(cmd, "label", fl.labels)
	if err != nil {
		return err
	}
	annotations, err := parseKV(cmd, "annotation", fl.annotations)
	if err != nil {
		return err
	}
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	d := client.FunctionDeployment{
		Service:                fl.name,
		Image:                  fl.image,
		Namespace:              fl.namespace,
		EnvProcess:             fl.fprocess,
		EnvVars:                env,
		Constraints:            fl.constraints,
		Secrets:                fl.secrets,
		Labels:                 &labels,
		Annotations:            &annotations,
		Limits:                 resources(&stackResources{Memory: fl.memLimit, CPU: fl.cpuLimit}),
		Requests:               resources(&stackResources{Memory: fl.memReq, CPU: fl.cpuReq}),
		ReadOnlyRootFilesystem: fl.readonly,
	}
	c, err := g.client("")
	if err != nil {
		return err
	}
	return deployOne(cmd.Context(), cmd.OutOrStdout(), c, d, fl.wasm, fl.abi, fl.update)
}

func deployStack(cmd *cobra.Command, g *globals, fl *deployFlags) error {
	s, err := loadStack(fl.yamlFile, fl.envsubst)
	if err != nil {
		return err
	}
	names, err := s.selected(fl.filter)
	if err != nil {
		return err
	}
	c, err := g.client(s.Provider.Gateway)
	if err != nil {
		return err
	}
	for _, name := range names {
		d, err := s.deployment(name, fl.namespace)
		if err != nil {
			return err
		}
		fn := s.Functions[name]
		if _, err := buildFunction(cmd.Context(), cmd.OutOrStdout(), s, name); err != nil {
			return err
		}
		if err := deployOne(cmd.Context(), cmd.OutOrStdout(), c, d, s.path(fn.Wasm), fn.ABI, fl.update); err != nil {
			return fmt.Errorf("function %s: %w", name, err)
		}
	}
	return nil
}

// deployOne pushes wasm (when set) tagged with the image, then deploys d.
func deployOne(ctx context.Context, out io.Writer, c *client.Client, d client.FunctionDeployment, wasm, abi string, update bool) error {
	if wasm != "" {
		a, err := push(ctx, c, wasm, []string{d.Image}, abi)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Pushed %s: %s (%d bytes) as %s.\n", wasm, a.Digest, a.Size, d.Image)
	}
	fmt.Fprintf(out, "Deploying: %s.\n", d.Service)
	res, err := c.DeployFunction(ctx, d, update)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Deployed. %s.\nURL: %s\n", res.Status, c.FunctionURL(d.Service, d.Namespace))
	if res.LogIndex >= 0 {
		fmt.Fprintf(out, "Transparency log index: %d\n", res.LogIndex)
	}
	return nil
}

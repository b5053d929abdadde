package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func newRemoveCommand(g *globals) *cobra.Command {
	var namespace, yamlFile, filter string
	var envsubst bool
	cmd := &cobra.Command{
		Use:     "remove [NAME...]",
		Aliases: []string{"rm"},
		Short:   "Remove functions by name or from a stack file",
		Example: "  sigil remove hello\n  sigil rm -f sigil.yml --filter 'hello*'",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && yamlFile != "" {
				return usagef(cmd, "give either function names or -f, not both")
			}
			if len(args) == 0 && yamlFile == "" {
				if yamlFile = findStackFile(); yamlFile == "" {
					return usagef(cmd, "give a function name or -f sigil.yml")
				}
			}
			type target struct{ name, ns string }
			var targets []target
			gwYAML := ""
			if yamlFile != "" {
				s, err := loadStack(yamlFile, envsubst)
				if err != nil {
					return err
				}
				names, err := s.selected(filter)
				if err != nil {
					return err
				}
				for _, n := range names {
					ns := namespace
					if ns == "" {
						ns = s.Functions[n].Namespace
					}
					targets = append(targets, target{n, ns})
				}
				gwYAML = s.Provider.Gateway
			}
			for _, a := range args {
				targets = append(targets, target{a, namespace})
			}
			c, err := g.client(gwYAML)
			if err != nil {
				return err
			}
			for _, t := range targets {
				if err := c.DeleteFunction(cmd.Context(), t.name, t.ns); err != nil {
					return fmt.Errorf("function %s: %w", t.name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Removed: %s.\n", t.name)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's, or the stack file's)")
	f.StringVarP(&yamlFile, "yaml", "f", "", "stack file whose functions to remove")
	f.StringVar(&filter, "filter", "", "with -f: remove only functions whose name matches this pattern")
	f.BoolVar(&envsubst, "envsubst", true, "with -f: substitute ${VAR} from the environment")
	return cmd
}

func newScaleCommand(g *globals) *cobra.Command {
	var namespace string
	var replicas uint64
	cmd := &cobra.Command{
		Use:     "scale NAME --replicas N",
		Short:   "Set the desired replicas of a function",
		Example: "  sigil scale hello --replicas 3",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return usagef(cmd, "--replicas is required")
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			if err := c.ScaleFunction(cmd.Context(), args[0], namespace, replicas); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Scaled %s to %s replica(s).\n", args[0], strconv.FormatUint(replicas, 10))
			return nil
		},
	}
	cmd.Flags().Uint64Var(&replicas, "replicas", 0, "desired replicas")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	return cmd
}

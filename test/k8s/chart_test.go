package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../../deploy/helm/sigil"

// object is one decoded manifest.
type object struct {
	Kind string
	Name string
	Obj  any
}

// newTyped returns the k8s.io/api type for apiVersion/kind.
func newTyped(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Namespace":
		return &corev1.Namespace{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	}
	return nil, fmt.Errorf("no strict type registered for %s %s", apiVersion, kind)
}

// decodeStrict turns one YAML document into its typed object; any field the
// type does not have is an error.
func decodeStrict(doc []byte) (object, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return object{}, err
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(j, &meta); err != nil {
		return object{}, err
	}
	typed, err := newTyped(meta.APIVersion, meta.Kind)
	if err != nil {
		return object{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(typed); err != nil {
		return object{}, fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
	}
	return object{Kind: meta.Kind, Name: meta.Metadata.Name, Obj: typed}, nil
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func decodeAll(t *testing.T, manifest string) []object {
	t.Helper()
	var out []object
	for _, doc := range docSep.Split(manifest, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		o, err := decodeStrict([]byte(doc))
		if err != nil {
			t.Fatalf("strict decode: %v\n%s", err, doc)
		}
		out = append(out, o)
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// render is `helm template --namespace ns release chartDir --set ...`.
func render(t *testing.T, ns string, vals map[string]any) string {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(&action.Configuration{})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = "sigil", ns
	inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}
	rel, err := inst.Run(ch, vals)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return rel.Manifest
}

func TestLint(t *testing.T) {
	for _, vals := range []map[string]any{
		nil,
		{"clusterSize": 5, "auth": map[string]any{"enabled": false}, "keys": map[string]any{"existingSecret": "k"}},
	} {
		l := lint.All(chartDir, vals, "sigil", false)
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("helm lint (values %v): %s", vals, m)
			}
		}
	}
}

func byKind(objs []object) map[string][]object {
	m := map[string][]object{}
	for _, o := range objs {
		m[o.Kind] = append(m[o.Kind], o)
	}
	return m
}

func arg(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// checkCluster holds the properties issue 6 asks of the objects.
func checkCluster(t *testing.T, objs []object, ns string, size int) {
	t.Helper()
	k := byKind(objs)
	if len(k["StatefulSet"]) != 1 || len(k["PodDisruptionBudget"]) != 1 {
		t.Fatalf("want one StatefulSet and one PDB, got %v", kinds(objs))
	}
	sts := k["StatefulSet"][0].Obj.(*appsv1.StatefulSet)
	if sts.Spec.Replicas == nil || int(*sts.Spec.Replicas) != size {
		t.Errorf("replicas = %v, want %d", sts.Spec.Replicas, size)
	}
	if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy %q: nodes must start together to form a quorum", sts.Spec.PodManagementPolicy)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 {
		t.Errorf("want a volume claim template (a volume per pod)")
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if arg(c.Args, "--node-name") != "$(POD_NAME)" {
		t.Errorf("--node-name = %q, want the pod name", arg(c.Args, "--node-name"))
	}
	var podName bool
	for _, e := range c.Env {
		if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			podName = true
		}
	}
	if !podName {
		t.Errorf("POD_NAME is not the pod's metadata.name")
	}
	peers := strings.Split(arg(c.Args, "--peers"), ",")
	if len(peers) != size {
		t.Errorf("--peers has %d addresses, want %d: %v", len(peers), size, peers)
	}
	for i, p := range peers {
		want := fmt.Sprintf("sigil-%d.%s.%s.svc:6222", i, sts.Spec.ServiceName, ns)
		if p != want {
			t.Errorf("peer %d = %q, want %q", i, p, want)
		}
	}
	var headless *corev1.Service
	for _, o := range k["Service"] {
		s := o.Obj.(*corev1.Service)
		if s.Name == sts.Spec.ServiceName {
			headless = s
		}
	}
	if headless == nil || headless.Spec.ClusterIP != "None" || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("the StatefulSet's service %q must be headless with publishNotReadyAddresses", sts.Spec.ServiceName)
	}
	if len(k["Service"]) != 2 {
		t.Errorf("want a headless and a gateway Service, got %d", len(k["Service"]))
	}
	pdb := k["PodDisruptionBudget"][0].Obj.(*policyv1.PodDisruptionBudget)
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PDB maxUnavailable = %v, want 1", pdb.Spec.MaxUnavailable)
	}
	if sts.Spec.Template.Spec.TerminationGracePeriodSeconds == nil || *sts.Spec.Template.Spec.TerminationGracePeriodSeconds < 10 {
		t.Errorf("terminationGracePeriodSeconds must outlast the lame-duck handover")
	}
}

func kinds(objs []object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Kind+"/"+o.Name)
	}
	sort.Strings(out)
	return out
}

func TestTemplateDefaults(t *testing.T) {
	objs := decodeAll(t, render(t, "sigil", nil))
	checkCluster(t, objs, "sigil", 3)
	k := byKind(objs)
	if len(k["Secret"]) != 1 {
		t.Fatalf("want the basic-auth Secret, got %v", kinds(objs))
	}
	sec := k["Secret"][0].Obj.(*corev1.Secret)
	if len(sec.Data["basic-auth-password"]) < 16 || string(sec.Data["basic-auth-user"]) != "admin" {
		t.Errorf("basic-auth Secret: %v", sec.Data)
	}
	sts := k["StatefulSet"][0].Obj.(*appsv1.StatefulSet)
	if got := arg(sts.Spec.Template.Spec.Containers[0].Args, "--replicas"); got != "3" {
		t.Errorf("--replicas = %q, want 3", got)
	}
}

func TestTemplateValues(t *testing.T) {
	objs := decodeAll(t, render(t, "faas", map[string]any{
		"clusterSize": 5,
		"replicas":    5,
		"auth":        map[string]any{"existingSecret": "my-auth"},
		"keys":        map[string]any{"existingSecret": "my-keys"},
		"resources":   map[string]any{"limits": map[string]any{"memory": "2Gi"}},
	}))
	checkCluster(t, objs, "faas", 5)
	k := byKind(objs)
	if len(k["Secret"]) != 0 {
		t.Errorf("an existing auth Secret must not be rendered again: %v", kinds(objs))
	}
	sts := k["StatefulSet"][0].Obj.(*appsv1.StatefulSet)
	c := sts.Spec.Template.Spec.Containers[0]
	if arg(c.Args, "--replicas") != "5" {
		t.Errorf("--replicas = %q", arg(c.Args, "--replicas"))
	}
	if c.Resources.Limits.Memory().String() != "2Gi" {
		t.Errorf("memory limit %s", c.Resources.Limits.Memory())
	}
	vols := map[string]string{}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			vols[v.Name] = v.Secret.SecretName
		}
	}
	if vols["basic-auth"] != "my-auth" || vols["keys"] != "my-keys" {
		t.Errorf("secret volumes %v", vols)
	}
}

func TestTemplateNoAuth(t *testing.T) {
	objs := decodeAll(t, render(t, "sigil", map[string]any{"auth": map[string]any{"enabled": false}}))
	sts := byKind(objs)["StatefulSet"][0].Obj.(*appsv1.StatefulSet)
	found := false
	for _, a := range sts.Spec.Template.Spec.Containers[0].Args {
		found = found || a == "--no-auth"
	}
	if !found || len(byKind(objs)["Secret"]) != 0 {
		t.Errorf("auth.enabled=false: want --no-auth and no Secret")
	}
}

// TestStrictDecoderRejectsTypos: the check that guards the rest.
func TestStrictDecoderRejectsTypos(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {publishNotReadyAdresses: true}\n",
		"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {maxUnavailible: 1}\n",
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: a, imag: b}]}}}\n",
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("accepted a misspelt field:\n%s", doc)
		}
	}
}

// TestPlainManifests decodes deploy/k8s (what `kubectl apply -k` applies)
// strictly and checks it matches the chart's properties.
func TestPlainManifests(t *testing.T) {
	dir := "../../deploy/k8s"
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kz struct {
		Namespace string   `json:"namespace"`
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &kz); err != nil {
		t.Fatal(err)
	}
	var all []object
	for _, r := range kz.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, decodeAll(t, string(b))...)
	}
	checkCluster(t, all, kz.Namespace, 3)
	// Same pod spec as the chart renders (modulo Helm's labels).
	chart := byKind(decodeAll(t, render(t, kz.Namespace, nil)))["StatefulSet"][0].Obj.(*appsv1.StatefulSet)
	plain := byKind(all)["StatefulSet"][0].Obj.(*appsv1.StatefulSet)
	cj, _ := json.Marshal(chart.Spec.Template.Spec)
	pj, _ := json.Marshal(plain.Spec.Template.Spec)
	if !bytes.Equal(cj, pj) {
		t.Errorf("deploy/k8s/statefulset.yaml's pod spec differs from the chart's:\nchart: %s\nplain: %s", cj, pj)
	}
}

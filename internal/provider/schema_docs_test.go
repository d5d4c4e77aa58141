package provider

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// describedAttribute is one attribute (or block) of a schema, nested ones included, with what
// its validators enforce, in their own words.
type describedAttribute struct {
	path        string
	description string
	limits      []string
}

// limitValidator reports whether v is one of terraform-plugin-framework-validators' value
// validators (Between, AtLeast, OneOf, LengthBetween, SizeAtLeast, RegexMatches, ...): those
// carry limits in their description. The provider's own validators and the timeouts block's
// say theirs in prose.
func limitValidator(v any) bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	// Validators relating attributes (AlsoRequires, ConflictsWith) carry no limit.
	return strings.HasPrefix(pkg, "github.com/hashicorp/terraform-plugin-framework-validators/") &&
		!strings.HasSuffix(pkg, "/internal/schemavalidator")
}

func validatorDescriptions(a any) []string {
	ctx := context.Background()
	var out []string
	add := func(vs ...interface{ Description(context.Context) string }) {
		for _, v := range vs {
			if limitValidator(v) {
				out = append(out, v.Description(ctx))
			}
		}
	}
	if v, ok := a.(interface{ StringValidators() []validator.String }); ok {
		for _, x := range v.StringValidators() {
			add(x)
		}
	}
	if v, ok := a.(interface{ Int64Validators() []validator.Int64 }); ok {
		for _, x := range v.Int64Validators() {
			add(x)
		}
	}
	if v, ok := a.(interface{ Float64Validators() []validator.Float64 }); ok {
		for _, x := range v.Float64Validators() {
			add(x)
		}
	}
	if v, ok := a.(interface{ ListValidators() []validator.List }); ok {
		for _, x := range v.ListValidators() {
			add(x)
		}
	}
	if v, ok := a.(interface{ MapValidators() []validator.Map }); ok {
		for _, x := range v.MapValidators() {
			add(x)
		}
	}
	if v, ok := a.(interface{ SetValidators() []validator.Set }); ok {
		for _, x := range v.SetValidators() {
			add(x)
		}
	}
	if v, ok := a.(interface{ ObjectValidators() []validator.Object }); ok {
		for _, x := range v.ObjectValidators() {
			add(x)
		}
	}
	return out
}

// children returns the attributes and blocks nested in a, by name.
func children(a any) map[string]any {
	out := map[string]any{}
	put := func(maps ...any) {
		for _, m := range maps {
			rv := reflect.ValueOf(m)
			for _, k := range rv.MapKeys() {
				out[k.String()] = rv.MapIndex(k).Interface()
			}
		}
	}
	switch a := a.(type) {
	case rschema.SingleNestedAttribute:
		put(a.Attributes)
	case rschema.ListNestedAttribute:
		put(a.NestedObject.Attributes)
	case rschema.SetNestedAttribute:
		put(a.NestedObject.Attributes)
	case rschema.MapNestedAttribute:
		put(a.NestedObject.Attributes)
	case rschema.SingleNestedBlock:
		put(a.Attributes, a.Blocks)
	case rschema.ListNestedBlock:
		put(a.NestedObject.Attributes, a.NestedObject.Blocks)
	case dsschema.SingleNestedAttribute:
		put(a.Attributes)
	case dsschema.ListNestedAttribute:
		put(a.NestedObject.Attributes)
	case pschema.SingleNestedAttribute:
		put(a.Attributes)
	case pschema.ListNestedAttribute:
		put(a.NestedObject.Attributes)
	}
	return out
}

func collectAttributes(prefix string, attrs map[string]any, out *[]describedAttribute) {
	for name, a := range attrs {
		p := prefix + name
		md := ""
		if d, ok := a.(interface{ GetMarkdownDescription() string }); ok {
			md = d.GetMarkdownDescription()
		}
		*out = append(*out, describedAttribute{path: p, description: md, limits: validatorDescriptions(a)})
		collectAttributes(p+".", children(a), out)
	}
}

var (
	numberToken = regexp.MustCompile(`\d+(\.\d+)?`)
	quotedToken = regexp.MustCompile(`"([^"]*)"`)
	numberWords = map[string]float64{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
)

// missingLimits returns the numbers and quoted values of the validators' own descriptions that
// the attribute's description does not mention (a value of a OneOf as `value`).
func missingLimits(description string, limits []string) []string {
	said := map[float64]bool{}
	for _, n := range numberToken.FindAllString(description, -1) {
		f, _ := strconv.ParseFloat(n, 64)
		said[f] = true
	}
	for _, w := range strings.Fields(strings.ToLower(description)) {
		if f, ok := numberWords[strings.Trim(w, ".,;:()")]; ok {
			said[f] = true
		}
	}
	var missing []string
	for _, l := range limits {
		quoted := quotedToken.FindAllStringSubmatch(l, -1)
		for _, q := range quoted {
			if !strings.Contains(description, "`"+q[1]+"`") {
				missing = append(missing, fmt.Sprintf("`%s` (%s)", q[1], l))
			}
		}
		if len(quoted) > 0 {
			continue
		}
		for _, n := range numberToken.FindAllString(l, -1) {
			if f, _ := strconv.ParseFloat(n, 64); !said[f] {
				missing = append(missing, fmt.Sprintf("%s (%s)", strconv.FormatFloat(f, 'f', -1, 64), l))
			}
		}
	}
	return missing
}

// schemaAttributes lists every attribute and block of the provider, its resources and data
// sources, keyed "provider", the resource type or "data.<type>".
func schemaAttributes(t *testing.T) map[string][]describedAttribute {
	ctx := context.Background()
	p := New("test")()
	out := map[string][]describedAttribute{}
	var presp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &presp)
	var attrs []describedAttribute
	collectAttributes("", children(pschema.SingleNestedAttribute{Attributes: presp.Schema.Attributes}), &attrs)
	out["provider"] = attrs
	for _, f := range p.Resources(ctx) {
		r := f()
		s := resourceSchema(t, r)
		attrs = nil
		collectAttributes("", children(rschema.SingleNestedBlock{Attributes: s.Attributes, Blocks: s.Blocks}), &attrs)
		out[resourceTypeName(r)] = attrs
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		s := dataSourceSchema(t, d)
		attrs = nil
		collectAttributes("", children(dsschema.SingleNestedAttribute{Attributes: s.Attributes}), &attrs)
		out["data."+dataSourceTypeName(d)] = attrs
	}
	return out
}

// TestSchemas_EveryValidatedAttributeStatesItsLimits keeps the documentation honest: an
// operator learns an attribute's range, allowed values or length from the docs, not from a
// plan that fails.
func TestSchemas_EveryValidatedAttributeStatesItsLimits(t *testing.T) {
	var problems []string
	for name, attrs := range schemaAttributes(t) {
		for _, a := range attrs {
			key := name + "." + a.path
			miss := missingLimits(a.description, a.limits)
			if len(miss) > 0 {
				problems = append(problems, fmt.Sprintf("%s does not say %s", key, strings.Join(miss, ", ")))
			}
		}
	}
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// TestSchemas_TimeoutsAreOneBlockWithTheirDefaultsStated: every resource that waits takes
// `timeouts { ... }` (never `timeouts = { ... }`), and each operation says its default.
func TestSchemas_TimeoutsAreOneBlockWithTheirDefaultsStated(t *testing.T) {
	ctx := context.Background()
	for _, f := range New("test")().Resources(ctx) {
		r := f()
		s := resourceSchema(t, r)
		name := resourceTypeName(r)
		if _, ok := s.Attributes["timeouts"]; ok {
			t.Errorf("%s: timeouts is an attribute; it must be a block like every other resource's", name)
		}
		b, ok := s.Blocks["timeouts"]
		if !ok {
			continue
		}
		block, ok := b.(rschema.SingleNestedBlock)
		if !ok {
			t.Errorf("%s: timeouts is a %T", name, b)
			continue
		}
		for op, a := range block.Attributes {
			if d := a.GetDescription(); !strings.Contains(d, "(default") {
				t.Errorf("%s: timeouts.%s does not state its default: %q", name, op, d)
			}
		}
	}
}

func resourceTypeName(r resource.Resource) string {
	var resp resource.MetadataResponse
	r.Metadata(context.Background(), resource.MetadataRequest{ProviderTypeName: "eventscale"}, &resp)
	return resp.TypeName
}

func dataSourceTypeName(d datasource.DataSource) string {
	var resp datasource.MetadataResponse
	d.Metadata(context.Background(), datasource.MetadataRequest{ProviderTypeName: "eventscale"}, &resp)
	return resp.TypeName
}

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	_ "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1" // registers the typed services
	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
)

// These tests check the generated Go code (what the server and clients link
// against) against the catalog, so a catalog change that was not followed by
// .ci/generate fails here even if the .proto files were updated.

func typedService(t *testing.T, area catalog.Area) protoreflect.ServiceDescriptor {
	t.Helper()
	name := protoreflect.FullName(catalog.TypedPackage + "." + area.Service)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		t.Fatalf("area %s: service %s not generated: %v", area.Name, name, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		t.Fatalf("%s is a %T, not a service", name, d)
	}
	if got, want := sd.ParentFile().Path(), strings.TrimPrefix(protoFile(area.Name), "api/proto/"); got != want {
		t.Errorf("service %s is declared in %s, want %s", name, got, want)
	}
	return sd
}

// TestTypedServicesMatchCatalog checks that there is one service per area and
// one RPC per action, with the catalog's names, and nothing else in the
// package.
func TestTypedServicesMatchCatalog(t *testing.T) {
	services := map[protoreflect.FullName]bool{}
	for _, area := range catalog.Areas() {
		sd := typedService(t, area)
		services[sd.FullName()] = true
		actions := catalog.AreaActions(area.Name)
		if got, want := sd.Methods().Len(), len(actions); got != want {
			t.Errorf("%s has %d methods, the catalog has %d actions in %s", sd.FullName(), got, want, area.Name)
		}
		for _, a := range actions {
			md := sd.Methods().ByName(protoreflect.Name(a.RPC))
			if md == nil {
				t.Errorf("%s: no method %s in %s", a.Name, a.RPC, sd.FullName())
				continue
			}
			if got := string(sd.FullName()) + "/" + string(md.Name()); got != a.TypedRPC() {
				t.Errorf("%s: TypedRPC() = %s, generated %s", a.Name, a.TypedRPC(), got)
			}
			if md.IsStreamingClient() || md.IsStreamingServer() {
				t.Errorf("%s: %s streams", a.Name, md.FullName())
			}
			if got, want := string(md.Input().Name()), a.RPC+"Request"; got != want {
				t.Errorf("%s: request is %s, want %s", a.Name, got, want)
			}
			if got, want := string(md.Output().Name()), a.RPC+"Response"; got != want {
				t.Errorf("%s: response is %s, want %s", a.Name, got, want)
			}
		}
	}
	protoregistry.GlobalFiles.RangeFilesByPackage(catalog.TypedPackage, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			if sd := fd.Services().Get(i); !services[sd.FullName()] {
				t.Errorf("%s (%s) is not the service of any catalog area", sd.FullName(), fd.Path())
			}
		}
		return true
	})
}

// TestTypedRequestsMatchParams checks that every request field maps to a
// catalog parameter and every parameter to a field: same order, the type its
// kind calls for, and a protojson name equal to the catalog name, which is how
// the server turns a typed request into Execute's params.
func TestTypedRequestsMatchParams(t *testing.T) {
	for _, area := range catalog.Areas() {
		sd := typedService(t, area)
		for _, a := range catalog.AreaActions(area.Name) {
			t.Run(a.Name, func(t *testing.T) {
				md := sd.Methods().ByName(protoreflect.Name(a.RPC))
				if md == nil {
					t.Fatalf("no method %s", a.RPC)
				}
				fields := md.Input().Fields()
				if got, want := fields.Len(), len(a.Params)+2; got != want {
					t.Errorf("%s has %d fields, want %d parameters, approval_id and confirmation", md.Input().FullName(), got, want)
				}
				for i, p := range a.Params {
					fd := fields.ByJSONName(p.Name)
					if fd == nil {
						t.Errorf("parameter %s: no field with that JSON name", p.Name)
						continue
					}
					if got, want := string(fd.Name()), protoFieldName(p.Name); got != want {
						t.Errorf("parameter %s: field %s, want %s", p.Name, got, want)
					}
					if got, want := int(fd.Number()), i+1; got != want {
						t.Errorf("parameter %s: field number %d, want %d (parameter order)", p.Name, got, want)
					}
					if got, want := fieldType(fd), wantType(p.Kind); got != want {
						t.Errorf("parameter %s (%s): field type %s, want %s", p.Name, p.Kind, got, want)
					}
				}
				conf := fields.ByName("confirmation")
				if conf == nil || conf.Number() != 99 || fieldType(conf) != "string" {
					t.Errorf("want string confirmation = 99, got %v", conf)
				}
				ap := fields.ByName("approval_id")
				if ap == nil || ap.Number() != 98 || fieldType(ap) != "string" {
					t.Errorf("want string approval_id = 98, got %v", ap)
				}
				for i := range fields.Len() {
					fd := fields.Get(i)
					if _, ok := a.Param(fd.JSONName()); !ok && fd.Name() != "confirmation" && fd.Name() != "approval_id" {
						t.Errorf("field %s (JSON %s) is not a parameter of %s", fd.Name(), fd.JSONName(), a.Name)
					}
				}
				checkProtoJSONKeys(t, a, md.Input())
			})
		}
	}
}

// checkProtoJSONKeys sets every field of a typed request and checks that
// protojson writes exactly the catalog's parameter names (and confirmation).
func checkProtoJSONKeys(t *testing.T, a *catalog.Action, md protoreflect.MessageDescriptor) {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		t.Fatal(err)
	}
	m := mt.New()
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch fd.Kind() {
		case protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString("x"))
		case protoreflect.Int64Kind:
			m.Set(fd, protoreflect.ValueOfInt64(1))
		case protoreflect.BoolKind:
			m.Set(fd, protoreflect.ValueOfBool(false)) // presence: false is still sent
		case protoreflect.MessageKind:
			m.Set(fd, protoreflect.ValueOfMessage((&structpb.Struct{}).ProtoReflect()))
		default:
			t.Fatalf("field %s has unexpected kind %s", fd.Name(), fd.Kind())
		}
	}
	b, err := protojson.Marshal(m.Interface())
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	want := []string{"approvalId", "confirmation"}
	for _, p := range a.Params {
		want = append(want, p.Name)
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(obj)); !slices.Equal(got, want) {
		t.Errorf("protojson keys %v, want %v", got, want)
	}
}

func wantType(k catalog.Kind) string {
	switch k {
	case catalog.KindInt:
		return "optional int64"
	case catalog.KindBool:
		return "optional bool"
	case catalog.KindObject:
		return "google.protobuf.Struct"
	default:
		return "string"
	}
}

// fieldType describes a field the way its declaration reads.
func fieldType(fd protoreflect.FieldDescriptor) string {
	var s string
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		s = string(fd.Message().FullName())
	case protoreflect.EnumKind:
		s = string(fd.Enum().FullName())
	default:
		s = fd.Kind().String()
	}
	if fd.HasOptionalKeyword() {
		s = "optional " + s
	}
	if fd.IsList() {
		s = "repeated " + s
	}
	if fd.IsMap() {
		s = "map " + s
	}
	return s
}

type fieldShape struct {
	Name, JSONName string
	Number         int
	Type           string
	Cardinality    string
	HasPresence    bool
}

func shapes(md protoreflect.MessageDescriptor) []fieldShape {
	var out []fieldShape
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		out = append(out, fieldShape{
			Name: string(fd.Name()), JSONName: fd.JSONName(), Number: int(fd.Number()),
			Type: fieldType(fd), Cardinality: fd.Cardinality().String(), HasPresence: fd.HasPresence(),
		})
	}
	return out
}

// TestTypedResponsesMatchExecuteResponse checks that every typed response is
// field-for-field identical to bollard.v1.ExecuteResponse, and that the bytes
// of a full ExecuteResponse decode into it without loss: the server builds an
// ExecuteResponse and the typed services hand out the same bytes.
func TestTypedResponsesMatchExecuteResponse(t *testing.T) {
	execute := (&bollardv1.ExecuteResponse{}).ProtoReflect().Descriptor()
	want := shapes(execute)
	sample := &bollardv1.ExecuteResponse{
		Result:     structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("00u1")}}),
		NextCursor: "cursor",
		DecisionId: "decision",
		Okta: &bollardv1.OktaCall{
			HttpStatus: 200, RequestId: "req",
			RateLimit: &bollardv1.RateLimit{Limit: 600, Remaining: 599, Reset_: 1700000000},
		},
	}
	wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, area := range catalog.Areas() {
		sd := typedService(t, area)
		for i := range sd.Methods().Len() {
			out := sd.Methods().Get(i).Output()
			t.Run(string(out.Name()), func(t *testing.T) {
				if got := shapes(out); !reflect.DeepEqual(got, want) {
					t.Errorf("%s differs from %s:\n got %+v\nwant %+v", out.FullName(), execute.FullName(), got, want)
				}
				mt, err := protoregistry.GlobalTypes.FindMessageByName(out.FullName())
				if err != nil {
					t.Fatal(err)
				}
				typed := mt.New().Interface()
				if err := proto.Unmarshal(wire, typed); err != nil {
					t.Fatal(err)
				}
				if len(typed.ProtoReflect().GetUnknown()) > 0 {
					t.Errorf("%s left unknown fields decoding an ExecuteResponse", out.FullName())
				}
				again, err := proto.MarshalOptions{Deterministic: true}.Marshal(typed)
				if err != nil {
					t.Fatal(err)
				}
				back := &bollardv1.ExecuteResponse{}
				if err := proto.Unmarshal(again, back); err != nil {
					t.Fatal(err)
				}
				// protocmp would give a diff, but go-cmp is not a module
				// dependency yet; proto.Equal is enough to fail.
				if !proto.Equal(sample, back) {
					t.Errorf("ExecuteResponse → %s → ExecuteResponse changed it: %v", out.FullName(), back)
				}
			})
		}
	}
}

// ExampleAction_TypedRPC shows the typed method ListActions reports for an
// action.
func ExampleAction_TypedRPC() {
	a, _ := catalog.Lookup("user_lifecycle.deactivate")
	fmt.Println(a.TypedRPC())
	// Output: bollard.okta.v1.UserLifecycleService/DeactivateUser
}

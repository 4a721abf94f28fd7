package gateway

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	// The generated typed services register their descriptors and types.
	oktav1 "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
)

// confirmationField and approvalField are the fields every typed request
// carries for a confirmation token and an approval id (JSON names).
const (
	confirmationField = "confirmation"
	approvalField     = "approvalId"
)

// typedServiceDescs builds one grpc.ServiceDesc per catalog area from the
// generated descriptors: each method decodes its typed request, turns it into
// catalog parameters and runs the same pipeline as Execute. Nothing per action
// is written by hand, so a catalog change is a regeneration, not new code.
func typedServiceDescs(s *Server) ([]grpc.ServiceDesc, error) {
	var descs []grpc.ServiceDesc
	for _, area := range catalog.Areas() {
		full := protoreflect.FullName(catalog.TypedPackage + "." + area.Service)
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(full)
		if err != nil {
			return nil, fmt.Errorf("typed service %s: %w", full, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("typed service %s is not a service", full)
		}
		desc := grpc.ServiceDesc{
			ServiceName: string(full),
			HandlerType: (*any)(nil),
			Metadata:    sd.ParentFile().Path(),
		}
		for _, a := range catalog.AreaActions(area.Name) {
			md := sd.Methods().ByName(protoreflect.Name(a.RPC))
			if md == nil {
				return nil, fmt.Errorf("typed service %s has no method %s for %s", full, a.RPC, a.Name)
			}
			in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
			if err != nil {
				return nil, fmt.Errorf("typed request %s: %w", md.Input().FullName(), err)
			}
			outType, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
			if err != nil {
				return nil, fmt.Errorf("typed response %s: %w", md.Output().FullName(), err)
			}
			desc.Methods = append(desc.Methods, grpc.MethodDesc{
				MethodName: a.RPC,
				Handler:    s.typedHandler(a, in, outType),
			})
		}
		if sd.Methods().Len() != len(desc.Methods) {
			return nil, fmt.Errorf("typed service %s has %d methods, the catalog %d", full, sd.Methods().Len(), len(desc.Methods))
		}
		descs = append(descs, desc)
	}
	return descs, nil
}

var _ = oktav1.File_bollard_okta_v1_users_proto // keep the generated package linked

func (s *Server) typedHandler(a *catalog.Action, in, outType protoreflect.MessageType) grpc.MethodHandler {
	fullMethod := "/" + catalog.TypedPackage + "." + mustArea(a).Service + "/" + a.RPC
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		req := in.New().Interface()
		if err := dec(req); err != nil {
			return nil, err
		}
		handle := func(ctx context.Context, r any) (any, error) {
			params, confirmation, approvalID := typedParams(r.(proto.Message))
			resp, err := s.execute(ctx, request{action: a.Name, params: params, confirmation: confirmation, approvalID: approvalID})
			if err != nil {
				return nil, err
			}
			typed, err := typedResponse(resp, outType)
			if err != nil {
				s.log.ErrorContext(ctx, "typed response", "decision_id", resp.GetDecisionId(), "action", a.Name, "error", err)
				return nil, toStatus(err)
			}
			return typed, nil
		}
		if interceptor == nil {
			return handle(ctx, req)
		}
		return interceptor(ctx, req, &grpc.UnaryServerInfo{Server: s, FullMethod: fullMethod}, handle)
	}
}

func mustArea(a *catalog.Action) catalog.Area {
	area, _ := catalog.LookupArea(a.Area)
	return area
}

// typedParams turns a typed request into catalog parameters: each populated
// field under its JSON name (which the generator makes equal to the catalog
// parameter name), integers as JSON numbers, Structs as JSON objects.
func typedParams(m proto.Message) (params map[string]any, confirmation, approvalID string) {
	params = map[string]any{}
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch name := fd.JSONName(); name {
		case confirmationField:
			confirmation = v.String()
			return true
		case approvalField:
			approvalID = v.String()
			return true
		}
		name := fd.JSONName()
		switch fd.Kind() {
		case protoreflect.StringKind:
			params[name] = v.String()
		case protoreflect.Int64Kind, protoreflect.Int32Kind:
			params[name] = float64(v.Int())
		case protoreflect.BoolKind:
			params[name] = v.Bool()
		case protoreflect.MessageKind:
			if st, ok := v.Message().Interface().(*structpb.Struct); ok {
				params[name] = st.AsMap()
			}
		}
		return true
	})
	return params, confirmation, approvalID
}

// typedResponse turns an ExecuteResponse into the typed response, which has
// the same fields (a test of the generator guarantees it) and so the same
// wire form: the typed message carries the encoded response as it is, and
// the agent decodes its fields. Nothing is decoded again here.
func typedResponse(resp proto.Message, outType protoreflect.MessageType) (proto.Message, error) {
	raw, err := proto.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode typed response: %w", err)
	}
	out := outType.New()
	out.SetUnknown(raw)
	return out.Interface(), nil
}

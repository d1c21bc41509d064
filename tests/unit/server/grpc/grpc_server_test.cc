// The server around the Inference service: the bound port, ListModels, the API key, the
// standard health service (SERVING, then NOT_SERVING on Shutdown) and server reflection.
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/unit/server/grpc/grpc_test_util.h"

namespace stride::server::grpc::testing {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = LlamaEngine();
    ASSERT_NE(engine_, nullptr);
  }
  engine::Engine* engine_ = nullptr;
};

TEST_F(GrpcServerTest, PortZeroBindsAFreePortAndListModelsDescribesTheModel) {
  GrpcServerOptions options;
  options.served_model_name = "llama-fixture";
  options.max_model_len = 256;
  std::unique_ptr<GrpcServer> server = StartServer(engine_, nullptr, options);
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  auto stub = v1::Inference::NewStub(Connect(server->port()));
  ::grpc::ClientContext context;
  v1::ListModelsResponse response;
  ASSERT_TRUE(stub->ListModels(&context, v1::ListModelsRequest(), &response).ok());
  ASSERT_EQ(response.models_size(), 1);
  EXPECT_EQ(response.models(0).id(), "llama-fixture");
  EXPECT_EQ(response.models(0).max_model_len(), 256);
  EXPECT_EQ(response.models(0).vocab_size(), 512);
  EXPECT_FALSE(response.models(0).has_tokenizer());
  // The lower max_model_len is enforced.
  StreamResult result = Generate(*stub, TokenRequest(std::vector<int32_t>(250, 1), 10));
  EXPECT_EQ(result.status.error_code(), ::grpc::INVALID_ARGUMENT);
  EXPECT_NE(result.status.error_message().find("context of 256"), std::string::npos);

  // Tokenize needs a tokenizer.
  ::grpc::ClientContext tokenize_context;
  v1::TokenizeRequest tokenize;
  tokenize.set_text("hi");
  v1::TokenizeResponse ids;
  EXPECT_EQ(stub->Tokenize(&tokenize_context, tokenize, &ids).error_code(),
            ::grpc::FAILED_PRECONDITION);
}

TEST_F(GrpcServerTest, SecondServerOnATakenPortFailsToStart) {
  std::unique_ptr<GrpcServer> first = StartServer(engine_, nullptr);
  ASSERT_NE(first, nullptr);
  GrpcServerOptions options;
  options.host = "127.0.0.1";
  options.port = first->port();
  auto second = GrpcServer::Start(options, engine_, nullptr);
  EXPECT_FALSE(second.ok());
  options.port = 70000;
  EXPECT_EQ(GrpcServer::Start(options, engine_, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GrpcServerTest, ApiKeyIsRequiredForInferenceButNotForHealth) {
  GrpcServerOptions options;
  options.api_key = "s3cret-key";
  std::unique_ptr<GrpcServer> server = StartServer(engine_, nullptr, options);
  auto channel = Connect(server->port());
  auto stub = v1::Inference::NewStub(channel);
  auto list = [&](const std::string& authorization) {
    ::grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    v1::ListModelsResponse response;
    return stub->ListModels(&context, v1::ListModelsRequest(), &response);
  };
  EXPECT_EQ(list("").error_code(), ::grpc::UNAUTHENTICATED);
  EXPECT_EQ(list("Bearer wrong-key!").error_code(), ::grpc::UNAUTHENTICATED);
  EXPECT_EQ(list("Bearer s3cret-ke").error_code(), ::grpc::UNAUTHENTICATED);
  EXPECT_EQ(list("Basic s3cret-key").error_code(), ::grpc::UNAUTHENTICATED);
  EXPECT_TRUE(list("Bearer s3cret-key").ok());
  EXPECT_TRUE(list("bearer s3cret-key").ok()) << "the scheme is case-insensitive";

  ::grpc::ClientContext no_key;
  StreamResult rejected = Generate(*stub, TokenRequest({1, 2}, 2), &no_key);
  EXPECT_EQ(rejected.status.error_code(), ::grpc::UNAUTHENTICATED);
  EXPECT_EQ(rejected.num_messages, 0);
  ::grpc::ClientContext with_key;
  with_key.AddMetadata("authorization", "Bearer s3cret-key");
  StreamResult accepted = Generate(*stub, TokenRequest({1, 2}, 2), &with_key);
  EXPECT_TRUE(accepted.status.ok()) << accepted.status.error_message();
  EXPECT_EQ(accepted.usage->completion_tokens(), 2);

  ::grpc::ClientContext health_context;
  HealthCheckResponse health;
  EXPECT_TRUE(Health::NewStub(channel)->Check(&health_context, HealthCheckRequest(), &health).ok());
}

TEST_F(GrpcServerTest, HealthIsServingUntilShutdown) {
  std::unique_ptr<GrpcServer> server = StartServer(engine_, nullptr);
  auto health = Health::NewStub(Connect(server->port()));
  for (const std::string service : {"", "stride.v1.Inference"}) {
    ::grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok()) << service;
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << service;
  }
  ::grpc::ClientContext unknown_context;
  HealthCheckRequest unknown;
  unknown.set_service("no.such.Service");
  HealthCheckResponse ignored;
  EXPECT_EQ(health->Check(&unknown_context, unknown, &ignored).error_code(), ::grpc::NOT_FOUND);

  // A watcher sees the flip to NOT_SERVING when the server shuts down.
  ::grpc::ClientContext watch_context;
  auto watch = health->Watch(&watch_context, HealthCheckRequest());
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
  std::thread shutdown([&] { server->Shutdown(absl::Milliseconds(200)); });
  bool saw_not_serving = false;
  while (watch->Read(&update)) {
    if (update.status() == HealthCheckResponse::NOT_SERVING) {
      saw_not_serving = true;
      break;
    }
  }
  EXPECT_TRUE(saw_not_serving);
  watch_context.TryCancel();
  watch->Finish();
  shutdown.join();
  ::grpc::ClientContext after;
  after.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  EXPECT_FALSE(health->Check(&after, HealthCheckRequest(), &ignored).ok());
}

// Asks the reflection service for its service list with a generic call; the request and the
// reply are built from the reflection descriptors that gRPC's reflection library registers.
std::vector<std::string> ListServicesByReflection(const std::shared_ptr<::grpc::Channel>& channel) {
  namespace pb = google::protobuf;
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  const pb::Descriptor* request_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const pb::Descriptor* response_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  EXPECT_NE(request_type, nullptr);
  EXPECT_NE(response_type, nullptr);
  if (request_type == nullptr || response_type == nullptr) return {};
  pb::DynamicMessageFactory factory(pool);
  std::unique_ptr<pb::Message> request(factory.GetPrototype(request_type)->New());
  request->GetReflection()->SetString(request.get(), request_type->FindFieldByName("list_services"),
                                      "*");
  std::string bytes = request->SerializeAsString();

  ::grpc::GenericStub stub(channel);
  ::grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ::grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto await = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), expected);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  EXPECT_TRUE(await(1));
  ::grpc::Slice slice(bytes);
  ::grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  EXPECT_TRUE(await(2));
  call->WritesDone(reinterpret_cast<void*>(3));
  EXPECT_TRUE(await(3));
  ::grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(4));
  const bool got_reply = await(4);
  ::grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  await(5);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (!got_reply) return {};
  std::vector<::grpc::Slice> slices;
  EXPECT_TRUE(in.Dump(&slices).ok());
  std::string reply;
  for (const ::grpc::Slice& s : slices)
    reply.append(reinterpret_cast<const char*>(s.begin()), s.size());

  std::unique_ptr<pb::Message> response(factory.GetPrototype(response_type)->New());
  EXPECT_TRUE(response->ParseFromString(reply));
  const pb::Reflection* reflection = response->GetReflection();
  const pb::Message& list =
      reflection->GetMessage(*response, response_type->FindFieldByName("list_services_response"));
  const pb::FieldDescriptor* services = list.GetDescriptor()->FindFieldByName("service");
  std::vector<std::string> names;
  for (int i = 0; i < list.GetReflection()->FieldSize(list, services); ++i) {
    const pb::Message& service = list.GetReflection()->GetRepeatedMessage(list, services, i);
    names.push_back(service.GetReflection()->GetString(
        service, service.GetDescriptor()->FindFieldByName("name")));
  }
  return names;
}

TEST_F(GrpcServerTest, ReflectionListsTheServices) {
  std::unique_ptr<GrpcServer> server = StartServer(engine_, nullptr);
  std::vector<std::string> services = ListServicesByReflection(Connect(server->port()));
  EXPECT_NE(std::find(services.begin(), services.end(), "stride.v1.Inference"), services.end());
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"), services.end());
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.reflection.v1alpha.ServerReflection"),
            services.end());
}

}  // namespace
}  // namespace stride::server::grpc::testing

// Safetensors checkpoint loading; see checkpoint_loader.h. Each shard is mapped once, and every
// tensor the config implies is checked for presence, dtype and exact shape.
#include "engine/model/checkpoint_loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "engine/model/safetensors.h"
#include "engine/model/weight_layout.h"
#include "engine/model/weight_storage.h"
#include "nlohmann/json.hpp"

namespace stride::engine::model {
namespace {

namespace fs = std::filesystem;

constexpr char kSingleFile[] = "model.safetensors";
constexpr char kIndexFile[] = "model.safetensors.index.json";

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Tensor name -> shard file name, from the index's `weight_map`.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> ReadIndex(const fs::path& index) {
  std::ifstream in(index, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", index.string()));
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json root = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(index.string(), ": not a JSON object"));
  }
  auto map_it = root.find("weight_map");
  if (map_it == root.end() || !map_it->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index.string(), ": missing object field 'weight_map'"));
  }
  absl::flat_hash_map<std::string, std::string> weight_map;
  for (const auto& [tensor, file] : map_it->items()) {
    const fs::path file_path = file.is_string() ? fs::path(file.get<std::string>()) : fs::path();
    // Shards must live in the checkpoint directory itself.
    if (!file.is_string() || file_path.empty() || file_path.has_parent_path() || file_path == "." ||
        file_path == "..") {
      return absl::InvalidArgumentError(absl::StrCat(index.string(), ": weight_map entry for '",
                                                     tensor,
                                                     "' is not a file name: ", file.dump()));
    }
    weight_map[tensor] = file.get<std::string>();
  }
  return weight_map;
}

class CheckpointReader {
 public:
  CheckpointReader(fs::path dir, WeightStorage& storage)
      : dir_(std::move(dir)), storage_(storage) {}

  absl::Status Init() {
    std::error_code error;
    if (fs::is_regular_file(dir_ / kSingleFile, error)) {
      single_file_ = true;
      return absl::OkStatus();
    }
    if (fs::is_regular_file(dir_ / kIndexFile, error)) {
      STRIDE_ASSIGN_OR_RETURN(weight_map_, ReadIndex(dir_ / kIndexFile));
      return absl::OkStatus();
    }
    return absl::NotFoundError(
        absl::StrCat("no ", kSingleFile, " or ", kIndexFile, " in ", dir_.string()));
  }

  absl::Status Fill(const WeightSlot& slot) {
    std::string file_name = kSingleFile;
    if (!single_file_) {
      auto it = weight_map_.find(slot.name);
      if (it == weight_map_.end()) {
        return absl::NotFoundError(absl::StrCat((dir_ / kIndexFile).string(), ": tensor '",
                                                slot.name, "' is not in weight_map", Hint(slot)));
      }
      file_name = it->second;
    }
    STRIDE_ASSIGN_OR_RETURN(const SafetensorsFile* file, OpenOnce(file_name));
    absl::StatusOr<TensorView> view = file->Tensor(slot.name);
    if (!view.ok()) {
      return absl::Status(view.status().code(), absl::StrCat(view.status().message(), Hint(slot)));
    }
    if (view->shape != slot.shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors file ", file->path(), ": tensor '", slot.name, "' has shape ",
          ShapeString(view->shape), " but the config implies ", ShapeString(slot.shape)));
    }
    *slot.view = *std::move(view);
    return absl::OkStatus();
  }

 private:
  static std::string Hint(const WeightSlot& slot) {
    return slot.name == "lm_head.weight"
               ? " (tie_word_embeddings is false, so the checkpoint needs its own lm_head)"
               : "";
  }

  absl::StatusOr<const SafetensorsFile*> OpenOnce(const std::string& file_name) {
    auto it = open_files_.find(file_name);
    if (it != open_files_.end()) return it->second;
    STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file,
                            SafetensorsFile::Open((dir_ / file_name).string()));
    const SafetensorsFile* added = storage_.AddFile(std::move(file));
    open_files_[file_name] = added;
    return added;
  }

  fs::path dir_;
  WeightStorage& storage_;
  bool single_file_ = false;
  absl::flat_hash_map<std::string, std::string> weight_map_;
  absl::flat_hash_map<std::string, const SafetensorsFile*> open_files_;
};

}  // namespace

absl::StatusOr<ModelWeights> LoadCheckpointWeights(const ModelConfig& config,
                                                   const std::string& path) {
  std::error_code error;
  fs::path dir = path;
  if (fs::is_regular_file(dir, error)) dir = dir.parent_path();
  if (dir.empty()) dir = ".";

  ModelWeights weights;
  weights.storage = std::make_shared<WeightStorage>();
  CheckpointReader reader(dir, *weights.storage);
  STRIDE_RETURN_IF_ERROR(reader.Init());
  for (const WeightSlot& slot : ListWeightSlots(config, weights)) {
    STRIDE_RETURN_IF_ERROR(reader.Fill(slot));
  }
  if (config.tie_word_embeddings) weights.lm_head = weights.embed_tokens;
  return weights;
}

}  // namespace stride::engine::model

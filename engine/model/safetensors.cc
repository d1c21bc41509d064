// Memory-mapped safetensors reader; see safetensors.h.
#include "engine/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stride::engine::model {
namespace {

absl::Status IoError(const std::string& what, const std::string& path, int error_number) {
  return absl::NotFoundError(absl::StrCat("safetensors file ", path, ": cannot ", what, ": ",
                                          std::strerror(error_number)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error_number = errno;
    ::close(fd);
    return IoError("stat", path, error_number);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("safetensors file ", path, ": not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size < 8) {  // mmap cannot map an empty file; the parser words the error
    ::close(fd);
    return ParseSafetensorsHeader(std::string_view(), size, path).status();
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (mapping == MAP_FAILED) return IoError("mmap", path, map_errno);

  const auto* bytes = static_cast<const unsigned char*>(mapping);
  absl::StatusOr<SafetensorsHeader> header = ParseSafetensorsHeader(
      std::string_view(reinterpret_cast<const char*>(bytes), size), size, path);
  if (!header.ok()) {
    ::munmap(mapping, size);
    return header.status();
  }
  return std::unique_ptr<SafetensorsFile>(
      new SafetensorsFile(path, bytes, size, *std::move(header)));
}

SafetensorsFile::SafetensorsFile(std::string path, const unsigned char* mapping, uint64_t size,
                                 SafetensorsHeader header)
    : path_(std::move(path)), mapping_(mapping), size_(size), header_(std::move(header)) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

SafetensorsFile::~SafetensorsFile() { ::munmap(const_cast<unsigned char*>(mapping_), size_); }

const SafetensorsEntry* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

absl::StatusOr<TensorView> SafetensorsFile::Tensor(std::string_view name) const {
  const SafetensorsEntry* entry = Find(name);
  if (entry == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("safetensors file ", path_, ": no tensor '", std::string(name), "'"));
  }
  if (!entry->dtype.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("safetensors file ", path_, ": tensor '",
                                                   entry->name, "' has dtype ", entry->dtype_name,
                                                   "; supported: F32, F16, BF16"));
  }
  TensorView view;
  view.dtype = *entry->dtype;
  view.shape = entry->shape;
  // An empty tensor still gets a non-null pointer so that present() is true.
  view.data = mapping_ + header_.data_offset + entry->begin;
  return view;
}

}  // namespace stride::engine::model

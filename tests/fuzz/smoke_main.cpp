// A bounded fuzz driver for builds without libFuzzer: feeds LLVMFuzzerTestOneInput with the target's seeds (the
// files of --corpus DIR, then what fuzz_seeds() computes) and random mutations of them (bit flips, byte
// inserts/deletes, splices, interesting bytes) for --seconds N. --dump-seeds DIR writes the computed seeds as files
// (seed_0, seed_1...) to start a libFuzzer corpus from.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);

/// A target whose seeds are all files of its corpus defines no fuzz_seeds of its own.
__attribute__((weak)) std::vector<std::string> fuzz_seeds() { return {}; }

namespace {

/// Every regular file of `dir` in name order (the run is the same each time); false when `dir` cannot be read.
bool read_corpus(char const* dir, std::vector<std::string>& pool) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (auto const& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file()) files.push_back(e.path());
    if (ec) return false;
    std::sort(files.begin(), files.end());
    for (auto const& f : files) {
        std::ifstream in(f, std::ios::binary);
        pool.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad()) return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 3;
    char const* dump_dir = nullptr;
    char const* corpus_dir = nullptr;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
        if (std::strcmp(argv[i], "--dump-seeds") == 0) dump_dir = argv[i + 1];
        if (std::strcmp(argv[i], "--corpus") == 0) corpus_dir = argv[i + 1];
    }
    if (dump_dir != nullptr) {
        auto const computed = fuzz_seeds();  // the corpus is files already
        for (std::size_t i = 0; i < computed.size(); ++i) {
            std::ofstream out(std::string(dump_dir) + "/seed_" + std::to_string(i), std::ios::binary);
            out << computed[i];
            if (!out) return 1;
        }
        return 0;
    }
    std::vector<std::string> pool;
    if (corpus_dir != nullptr && !read_corpus(corpus_dir, pool)) {
        std::fprintf(stderr, "fuzz smoke: cannot read the corpus %s\n", corpus_dir);
        return 2;
    }
    std::size_t const from_corpus = pool.size();
    for (auto& s : fuzz_seeds()) pool.push_back(std::move(s));
    std::size_t const seeds = pool.size();
    if (seeds == 0) {
        std::fprintf(stderr, "fuzz smoke: no seeds (give the target's corpus with --corpus DIR)\n");
        return 2;
    }
    pool.emplace_back();
    std::mt19937_64 rng(0x1a7c4e7ULL);
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    static constexpr char interesting[] = {'\0', '%', '&', '=', ';',    '"',    '\\',   '{',    '}', '[', ']', '.',
                                           '/',  ',', ':', '+', '\xff', '\xc3', '\xa9', '\x80', 'A', '0', ' ', '\n'};
    std::uint64_t execs = 0;
    for (auto const& s : pool) {
        LLVMFuzzerTestOneInput(reinterpret_cast<std::uint8_t const*>(s.data()), s.size());
        ++execs;
    }
    while (std::chrono::steady_clock::now() < deadline) {
        for (int batch = 0; batch < 256; ++batch) {
            std::string s = pool[rng() % pool.size()];
            int rounds = 1 + static_cast<int>(rng() % 8);
            for (int r = 0; r < rounds; ++r) {
                switch (rng() % 6) {
                    case 0:
                        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
                        break;
                    case 1:
                        s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : rng() % (s.size() + 1)),
                                 interesting[rng() % sizeof interesting]);
                        break;
                    case 2:
                        if (!s.empty()) s.erase(rng() % s.size(), 1 + rng() % 4);
                        break;
                    case 3: {
                        auto const& o = pool[rng() % pool.size()];
                        if (!o.empty()) s += o.substr(rng() % o.size());
                        break;
                    }
                    case 4:
                        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng());
                        break;
                    default:
                        if (s.size() < 4096) s += s.substr(0, rng() % (s.size() + 1));
                }
            }
            if (s.size() > 65536) s.resize(65536);
            LLVMFuzzerTestOneInput(reinterpret_cast<std::uint8_t const*>(s.data()), s.size());
            ++execs;
            if (rng() % 64 == 0 && pool.size() < 4096) pool.push_back(s);
        }
    }
    std::printf("fuzz smoke: %zu seeds (%zu from the corpus), %llu executions, no crash\n", seeds, from_corpus,
                static_cast<unsigned long long>(execs));
    return 0;
}

// A bounded fuzz driver for builds without libFuzzer: feeds LLVMFuzzerTestOneInput with seeds and random
// mutations of them (bit flips, byte inserts/deletes, splices, interesting bytes) for --seconds N.
// --dump-seeds DIR writes the seeds as files (seed_0, seed_1...) to start a libFuzzer corpus from.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);
extern std::vector<std::string> fuzz_seeds();

int main(int argc, char** argv) {
    double seconds = 3;
    char const* dump_dir = nullptr;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
        if (std::strcmp(argv[i], "--dump-seeds") == 0) dump_dir = argv[i + 1];
    }
    std::vector<std::string> pool = fuzz_seeds();
    if (dump_dir != nullptr) {
        for (std::size_t i = 0; i < pool.size(); ++i) {
            std::ofstream out(std::string(dump_dir) + "/seed_" + std::to_string(i), std::ios::binary);
            out << pool[i];
            if (!out) return 1;
        }
        return 0;
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
    std::printf("fuzz smoke: %llu executions, no crash\n", static_cast<unsigned long long>(execs));
    return 0;
}

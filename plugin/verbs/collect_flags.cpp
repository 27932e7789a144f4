#include "collect_flags.h"

namespace ksc::cli {

std::optional<CollectedFlags> collect_verb_flags(const Verb& verb, std::vector<std::string> words) {
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    try {
        start_collecting_flags();
        verb.run(static_cast<int>(words.size()), argv.data());
    } catch (const CollectedFlags& collected) {
        return collected;
    } catch (...) {
        stop_collecting_flags();  // the verb refused its flags: leave no mode behind
        throw;
    }
    return std::nullopt;
}

}  // namespace ksc::cli

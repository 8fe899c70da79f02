// Failures inside the core are C++ exceptions carrying a jdyn_status; the C ABI (api.cpp) catches
// every one at the boundary, records its message for jdyn_last_error() and returns the status.
#pragma once

#include <stdexcept>
#include <string>

#include "jdyn.h"

namespace jdyn {

class Failure : public std::runtime_error {
public:
    Failure(jdyn_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    jdyn_status status() const { return status_; }

private:
    jdyn_status status_;
};

[[noreturn]] inline void fail(jdyn_status status, const std::string& message) { throw Failure(status, message); }

void set_last_error(const std::string& message);

// printf into a std::string, for failure messages (truncated at 1023 characters).
std::string format_message(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Runs body, turning any exception into a status and the thread's last-error message.
template <class Body>
int32_t guarded(Body&& body) {
    try {
        body();
        set_last_error("");
        return JDYN_OK;
    } catch (const Failure& f) {
        set_last_error(f.what());
        return f.status();
    } catch (const std::bad_alloc&) {
        set_last_error("out of native memory");
        return JDYN_ERR_OUT_OF_MEMORY;
    } catch (const std::invalid_argument& e) {
        set_last_error(e.what());
        return JDYN_ERR_ARGUMENT;
    } catch (const std::exception& e) {
        set_last_error(std::string("internal error: ") + e.what());
        return JDYN_ERR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return JDYN_ERR_INTERNAL;
    }
}

}  // namespace jdyn

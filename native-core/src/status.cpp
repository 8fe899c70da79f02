#include "status.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local std::string last_error;
}

namespace jdyn {
void set_last_error(const std::string& message) { last_error = message; }

std::string format_message(const char* format, ...) {
    char buf[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    return buf;
}
}  // namespace jdyn

extern "C" const char* jdyn_last_error(void) { return last_error.c_str(); }

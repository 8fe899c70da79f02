#include "status.h"

namespace {
thread_local std::string last_error;
}

namespace jdyn {
void set_last_error(const std::string& message) { last_error = message; }
}  // namespace jdyn

extern "C" const char* jdyn_last_error(void) { return last_error.c_str(); }

#include "method_registry.h"

#include "jdyn.h"

namespace jdyn {

const ButcherTableau* tableau_for(int64_t method) {
    switch (method) {
        case JDYN_EULER: return &euler();
        case JDYN_MIDPOINT: return &midpoint();
        case JDYN_HEUN: return &heun();
        case JDYN_RK4: return &rk4();
        case JDYN_RK4_38: return &rk4_38();
        case JDYN_BOSH3: return &bosh3();
        case JDYN_DOPRI5: return &dopri5();
        case JDYN_TSIT5: return &tsit5();
        case JDYN_DOPRI8: return &dopri8();
        default: return nullptr;
    }
}

}  // namespace jdyn

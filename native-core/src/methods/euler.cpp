// Forward Euler (Euler, Institutionum calculi integralis, 1768): order 1, fixed step, cubic Hermite
// dense output.
#include "../tableau.h"

namespace jdyn {
namespace {

ButcherTableau make() {
    ButcherTableau t;
    t.name = "euler";
    t.order = 1;
    t.c = {0.0};
    t.a = {{}};
    t.b = {1.0};
    add_hermite_dense(t);
    return t;
}

}  // namespace

const ButcherTableau& euler() {
    static const ButcherTableau t = finalize(make());
    return t;
}

}  // namespace jdyn

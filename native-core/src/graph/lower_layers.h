// Layer programs (jdyn.h's layer specs) compiled into graphs: one executor for both.
#pragma once

#include <utility>
#include <vector>

#include "graph/graph.h"

namespace jdyn {
class Program;
namespace graph {

// The finished graph of a layer stack: t, one argument [batch, dim_in], the output [batch, dim_out].
// Parameters: LINEAR "i.weight" [out, in] then "i.bias" [out]; GALLINEAR "i.coeffs_weight" [n_basis, out,
// in] then "i.coeffs_bias" [n_basis, out] (the names of Checkpoint's state_dict): the flat layout of the layer specs, each uniform in +-1/sqrt(in).
Graph lower_layers(const Program& program);

}  // namespace graph
}  // namespace jdyn

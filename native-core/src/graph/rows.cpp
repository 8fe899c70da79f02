#include "graph/rows.h"

namespace jdyn {
namespace graph {

bool mixes_rows(const Graph& g) {
    for (const Node& n : g.nodes()) {
        bool batched_in = false;
        for (int32_t i : n.in) batched_in = batched_in || g.shape(i).batched();
        if (batched_in && !n.shape.batched()) return true;
        switch (n.op) {
            case JDYN_OP_SOFTMAX: case JDYN_OP_LOG_SOFTMAX:
            case JDYN_OP_SUM: case JDYN_OP_MEAN: case JDYN_OP_MAX:
            case JDYN_OP_SLICE: case JDYN_OP_PAD: case JDYN_OP_CONCAT:
                // Along the batch axis (the graph refuses slicing, padding and concatenating there;
                // checked anyway, so that a future relaxation cannot split such a program).
                if (batched_in && n.ia[0] == 0) return true;
                break;
            case JDYN_OP_RANDOM:
                if (n.shape.batched()) return true;
                break;
            default:
                break;
        }
    }
    return false;
}

}  // namespace graph
}  // namespace jdyn

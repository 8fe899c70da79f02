/** GraalPy and GraalJS with jdyn: contexts, the host-access policy, conversions, the script runner. */
package io.jdyn.polyglot;

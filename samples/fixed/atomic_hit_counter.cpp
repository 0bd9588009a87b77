// AtomicHitCounter is header-only; this file keeps the one-source-per-sample layout of samples/.
#include "atomic_hit_counter.h"

#include "hit_counter.h"

void HitCounter::record() { hits_ += 1; }

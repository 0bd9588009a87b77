// Shared library for race_stripped_lib.cpp; built stripped so its frames have no symbols or files.
static int g_state;

__attribute__((noinline, visibility("hidden"))) void codec_mix(int v) { g_state = g_state * 31 + v; }

extern "C" void codec_feed(int v) {
  for (int i = 0; i < 1000; ++i) codec_mix(v + i);
}

/* A static program without TSan: LD_PRELOAD does not apply to it, so the shim never loads and never reports.
 * fork_runner's exec_static case execs it. */
int main(void) { return 0; }

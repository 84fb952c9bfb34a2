#include <cstdio>
int main() { std::puts("lookalike"); return 0; }

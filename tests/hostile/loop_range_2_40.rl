// `range(2^40)` built a compile-time list of 2^40 numbers ("memory allocation failed", an
// abort; found by the program fuzzer)
// expect: exit=1 code=E0024
algorithm hostile {
  env: discrete default "CartPole-v1"
  param n = 1099511627776
  param p = len(range(n))
}

// a `for` over the count 2^62 built the list of counts before checking it ("capacity overflow";
// found by the program fuzzer)
// expect: exit=1 code=E0024
fn f(x) = for i in 4611686018427387904 with y = x { y + 1 }

algorithm hostile {
  env: discrete default "CartPole-v1"
  param p = f(1.0)
}

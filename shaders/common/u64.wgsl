// Unsigned 64-bit integers as vec2<u32>(lo, hi): exact, order-independent population sums (WGSL has no u64).

fn addU64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn subU64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}

// f32 of a u64: hi scaled exactly by 2^32, then one rounding for the sum (the CPU mirror does the same).
fn u64ToF32(a: vec2<u32>) -> f32 {
  return f32(a.y) * 4294967296.0 + f32(a.x);
}

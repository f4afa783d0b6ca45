//! Host tensors of the interpreter.

use crate::ir::{DType, TensorType};
use num_traits::Float;
use std::fmt::Debug;

/// The float type the interpreter computes f32 tensors in (f32 or f64).
pub trait Real: Float + Debug + Default + Send + Sync + 'static + std::iter::Sum {
    /// From f64 (rounding for f32).
    fn of(v: f64) -> Self;
    /// To f64.
    fn f64(self) -> f64;
    /// `c = a @ b` for row-major `[m,k] x [k,n]`.
    fn gemm(m: usize, k: usize, n: usize, a: &[Self], b: &[Self], c: &mut [Self]);
    /// Standard normal sample of the shared generator, computed at this precision.
    fn normal(key: [u32; 2], index: u64) -> Self;
}

impl Real for f32 {
    fn of(v: f64) -> f32 {
        v as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        if m == 0 || n == 0 {
            return;
        }
        // SAFETY: the slices hold m*k, k*n and m*n elements in row-major order, as the
        // strides say; matrixmultiply reads/writes only within them.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }
    fn normal(key: [u32; 2], index: u64) -> f32 {
        crate::random::normal_f32(key, index)
    }
}

impl Real for f64 {
    fn of(v: f64) -> f64 {
        v
    }
    fn f64(self) -> f64 {
        self
    }
    fn gemm(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        if m == 0 || n == 0 {
            return;
        }
        // SAFETY: as for f32.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }
    fn normal(key: [u32; 2], index: u64) -> f64 {
        crate::random::normal(key, index)
    }
}

/// Element storage by type.
#[derive(Clone, Debug, PartialEq)]
pub enum Buf<T> {
    /// f32 tensors, held at precision `T`.
    F(Vec<T>),
    /// i32 tensors.
    I(Vec<i32>),
    /// bool tensors.
    B(Vec<bool>),
}

/// A tensor value: type plus row-major data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T> {
    /// Type.
    pub ty: TensorType,
    /// Data.
    pub buf: Buf<T>,
}

impl<T: Real> Tensor<T> {
    /// A float tensor from values.
    pub fn f(shape: impl Into<Vec<usize>>, data: Vec<T>) -> Tensor<T> {
        let ty = TensorType::f32(shape.into());
        debug_assert_eq!(ty.numel(), data.len());
        Tensor {
            ty,
            buf: Buf::F(data),
        }
    }

    /// A float tensor from f64 values (rounded to `T`).
    pub fn from_f64(shape: impl Into<Vec<usize>>, data: &[f64]) -> Tensor<T> {
        Tensor::f(shape, data.iter().map(|v| T::of(*v)).collect())
    }

    /// An i32 tensor.
    pub fn i(shape: impl Into<Vec<usize>>, data: Vec<i32>) -> Tensor<T> {
        Tensor {
            ty: TensorType::new(DType::I32, shape.into()),
            buf: Buf::I(data),
        }
    }

    /// A bool tensor.
    pub fn b(shape: impl Into<Vec<usize>>, data: Vec<bool>) -> Tensor<T> {
        Tensor {
            ty: TensorType::new(DType::Bool, shape.into()),
            buf: Buf::B(data),
        }
    }

    /// Zeros of a type.
    pub fn zeros(ty: &TensorType) -> Tensor<T> {
        Tensor::filled(ty, 0.0)
    }

    /// A tensor of a type with every element `v`.
    pub fn filled(ty: &TensorType, v: f64) -> Tensor<T> {
        let n = ty.numel();
        let buf = match ty.dtype {
            DType::F32 => Buf::F(vec![T::of(v); n]),
            DType::I32 => Buf::I(vec![v as i32; n]),
            DType::Bool => Buf::B(vec![v != 0.0; n]),
        };
        Tensor { ty: ty.clone(), buf }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.ty.numel()
    }

    /// True for tensors with no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as f64, whatever the type.
    pub fn get(&self, i: usize) -> f64 {
        match &self.buf {
            Buf::F(v) => v[i].f64(),
            Buf::I(v) => f64::from(v[i]),
            Buf::B(v) => f64::from(u8::from(v[i])),
        }
    }

    /// All elements as f64.
    pub fn to_f64(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    /// The float data (empty for other types).
    pub fn floats(&self) -> &[T] {
        match &self.buf {
            Buf::F(v) => v,
            _ => &[],
        }
    }

    /// The same values at another precision.
    pub fn convert<U: Real>(&self) -> Tensor<U> {
        let buf = match &self.buf {
            Buf::F(v) => Buf::F(v.iter().map(|x| U::of(x.f64())).collect()),
            Buf::I(v) => Buf::I(v.clone()),
            Buf::B(v) => Buf::B(v.clone()),
        };
        Tensor {
            ty: self.ty.clone(),
            buf,
        }
    }
}

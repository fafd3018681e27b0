"""The op table: every differentiable op of gradkit, one line each.

Each op is a ``Function`` subclass (forward and backward together) in the
module named for its family; the lowercase wrapper beside it is what
``Tensor``'s operators and methods, and ``gradkit.autograd``, call.

| op            | Function          | module      |
|---------------|-------------------|-------------|
| a + b         | Add               | arithmetic  |
| a - b         | Sub               | arithmetic  |
| a * b         | Mul               | arithmetic  |
| a / b         | Div               | arithmetic  |
| -a            | Neg               | arithmetic  |
| a ** b        | Pow               | arithmetic  |
| exp log sqrt sin cos tanh sigmoid relu abs | Exp Log Sqrt Sin Cos Tanh Sigmoid Relu Abs | elementwise |
| clamp         | Clamp             | elementwise |
| maximum minimum | Maximum Minimum | elementwise |
| where         | Where             | elementwise |
| to(dtype)     | Cast              | elementwise |
| sum           | Sum               | reduction   |
| mean          | Mean (float; an integer mean is Sum / n) | reduction |
| max min       | Max               | reduction   |
| logsumexp     | LogSumExp         | reduction   |
| softmax log_softmax | Softmax LogSoftmax | reduction |
| var std       | composed of Mean, Sum, Sub, Mul, Div, Sqrt | reduction |
| reshape view flatten squeeze unsqueeze | Reshape | shape |
| permute transpose .T | Permute    | shape       |
| expand        | Expand            | shape       |
| sum_to        | SumTo             | shape       |
| cat stack     | Cat               | shape       |
| t[index]      | GetItem, IndexAdd | indexing    |
| t[index] = v  | IndexPut          | indexing    |
| a @ b         | MatMul            | linalg      |
"""
from gradkit.autograd.ops import indexing
from gradkit.autograd.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub, add, compare, div, mul, neg, pow, sub
from gradkit.autograd.ops.elementwise import (Abs, Cast, Clamp, Cos, Exp, Log, Maximum, Minimum, Relu, Sigmoid,
                                              Sin, Sqrt, Tanh, Where, abs, cast, clamp, cos, exp, log, maximum,
                                              minimum, relu, sigmoid, sign, sin, sqrt, tanh, where)
from gradkit.autograd.ops.indexing import GetItem, IndexAdd, IndexPut, getitem, index_put
from gradkit.autograd.ops.linalg import MatMul, matmul
from gradkit.autograd.ops.reduction import (LogSoftmax, LogSumExp, Max, Mean, Softmax, Sum, argmax, argmin,
                                            log_softmax, logsumexp, max, mean, min, softmax, std, sum, var)
from gradkit.autograd.ops.shape import (Cat, Expand, Permute, Reshape, SumTo, cat, expand, flatten, permute,
                                        reshape, squeeze, stack, sum_to, transpose, unsqueeze, view)

;; reactor: a WASI reactor (exports _initialize, no _start).
(module
  (memory (export "memory") 1)
  (func (export "_initialize")))

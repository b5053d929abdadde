;; scribble: prints the 8 bytes at offset 40000 (the end of page 0), then
;; stores "SECRET!!" there. A fresh, zeroed memory prints eight NUL bytes.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 40000))
    (i32.store (i32.const 4) (i32.const 8))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i64.store (i32.const 40000) (i64.const 0x2121544552434553))))

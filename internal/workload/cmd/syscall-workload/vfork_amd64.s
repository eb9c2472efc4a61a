//go:build linux

#include "textflag.h"

// func vfork(name *byte, getppid int) (pid int, errno int)
//
// Forks a child that shares our memory (CLONE_VM|CLONE_VFORK: no page
// tables to copy, the calling thread sleeps until the child exits). The
// child lives in registers only: it never writes to memory, sets its comm,
// makes `getppid` getppid calls and exits with exit_group.
TEXT ·vfork(SB), NOSPLIT, $0-32
	MOVQ	name+0(FP), R12
	MOVQ	getppid+8(FP), R13
	MOVQ	$0x4111, DI	// CLONE_VM | CLONE_VFORK | SIGCHLD
	XORQ	SI, SI		// same stack: the child does not use it
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	MOVQ	$56, AX		// SYS_clone
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	MOVQ	$-1, pid+16(FP)
	RET
ok:
	MOVQ	AX, pid+16(FP)
	MOVQ	$0, errno+24(FP)
	RET

child:
	MOVQ	$157, AX	// SYS_prctl
	MOVQ	$15, DI		// PR_SET_NAME
	MOVQ	R12, SI
	SYSCALL
loop:
	TESTQ	R13, R13
	JEQ	exit
	MOVQ	$110, AX	// SYS_getppid
	SYSCALL
	DECQ	R13
	JMP	loop
exit:
	MOVQ	$231, AX	// SYS_exit_group
	XORQ	DI, DI
	SYSCALL
	JMP	exit

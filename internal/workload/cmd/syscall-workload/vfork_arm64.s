//go:build linux

#include "textflag.h"

// func vfork(name *byte, getppid int) (pid int, errno int)
//
// See vfork_amd64.s: the child lives in registers only.
TEXT ·vfork(SB), NOSPLIT, $0-32
	MOVD	name+0(FP), R19
	MOVD	getppid+8(FP), R20
	MOVD	$0x4111, R0	// CLONE_VM | CLONE_VFORK | SIGCHLD
	MOVD	$0, R1		// same stack: the child does not use it
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$0, R4
	MOVD	$220, R8	// SYS_clone
	SVC
	CBZ	R0, child
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	MOVD	$-1, R0
	MOVD	R0, pid+16(FP)
	RET
ok:
	MOVD	R0, pid+16(FP)
	MOVD	ZR, errno+24(FP)
	RET

child:
	MOVD	$167, R8	// SYS_prctl
	MOVD	$15, R0		// PR_SET_NAME
	MOVD	R19, R1
	SVC
loop:
	CBZ	R20, exit
	MOVD	$173, R8	// SYS_getppid
	SVC
	SUB	$1, R20
	B	loop
exit:
	MOVD	$0, R0
	MOVD	$94, R8		// SYS_exit_group
	SVC
	B	exit

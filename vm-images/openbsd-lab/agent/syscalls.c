/*
 * One stub per syscall number. Each stub's `syscall` instruction address and
 * number go into .openbsd.syscalls, which the linker script turns into the
 * PT_OPENBSD_SYSCALLS pin table the kernel checks on every system call.
 * OpenBSD reports failure with the carry flag set and errno in %rax; the stubs
 * return -errno then.
 */
#include "lab.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define SYSCALL_STUB(name, num)                                           \
	__asm__(".pushsection .text.sys_" #name ",\"ax\",@progbits\n"     \
		".globl sys_" #name "\n"                                   \
		".type sys_" #name ",@function\n"                          \
		"sys_" #name ":\n"                                         \
		"\tmovq %rcx, %r10\n"                                      \
		"\tmovl $" STR(num) ", %eax\n"                             \
		"0:\tsyscall\n"                                            \
		"\tjc 1f\n"                                                \
		"\tret\n"                                                  \
		"1:\tnegq %rax\n"                                          \
		"\tret\n"                                                  \
		".size sys_" #name ", . - sys_" #name "\n"                 \
		".popsection\n"                                            \
		".pushsection .openbsd.syscalls,\"a\",@progbits\n"         \
		"\t.long 0b\n"                                             \
		"\t.long " STR(num) "\n"                                   \
		".popsection\n")

SYSCALL_STUB(exit, LAB_SYS_exit);
SYSCALL_STUB(read, LAB_SYS_read);
SYSCALL_STUB(write, LAB_SYS_write);
SYSCALL_STUB(open, LAB_SYS_open);
SYSCALL_STUB(close, LAB_SYS_close);
SYSCALL_STUB(mknod, LAB_SYS_mknod);
SYSCALL_STUB(getpid, LAB_SYS_getpid);
SYSCALL_STUB(mount, LAB_SYS_mount);
SYSCALL_STUB(ioctl, LAB_SYS_ioctl);
SYSCALL_STUB(reboot, LAB_SYS_reboot);
SYSCALL_STUB(clock_gettime, LAB_SYS_clock_gettime);
SYSCALL_STUB(nanosleep, LAB_SYS_nanosleep);
SYSCALL_STUB(socket, LAB_SYS_socket);
SYSCALL_STUB(mkdir, LAB_SYS_mkdir);
SYSCALL_STUB(sysctl, LAB_SYS_sysctl);
SYSCALL_STUB(fork, LAB_SYS_fork);
SYSCALL_STUB(wait4, LAB_SYS_wait4);
SYSCALL_STUB(kill, LAB_SYS_kill);
SYSCALL_STUB(mmap, LAB_SYS_mmap);
SYSCALL_STUB(accept, LAB_SYS_accept);
SYSCALL_STUB(connect, LAB_SYS_connect);
SYSCALL_STUB(bind, LAB_SYS_bind);
SYSCALL_STUB(listen, LAB_SYS_listen);
SYSCALL_STUB(setsockopt, LAB_SYS_setsockopt);
SYSCALL_STUB(getsockopt, LAB_SYS_getsockopt);
SYSCALL_STUB(shutdown, LAB_SYS_shutdown);
SYSCALL_STUB(poll, LAB_SYS_poll);

/* The "OpenBSD" ident note: the kernel's elf_os_pt_note() looks for this name. */
__asm__(".pushsection .note.openbsd.ident,\"a\",@note\n"
	"\t.p2align 2\n"
	"\t.long 8\n"
	"\t.long 4\n"
	"\t.long 1\n"
	"\t.asciz \"OpenBSD\"\n"
	"\t.long 0\n"
	".popsection\n");

/* Entry: the kernel's initial stack is used as is; pid 1 never returns. */
__asm__(".pushsection .text.start,\"ax\",@progbits\n"
	".globl _start\n"
	"_start:\n"
	"\txorl %ebp, %ebp\n"
	"\tandq $-16, %rsp\n"
	"\tcall lab_main\n"
	"2:\tjmp 2b\n"
	".popsection\n");

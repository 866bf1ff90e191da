//go:build !noasm

#include "textflag.h"

// AVX2 kernels of the element-wise steps of the forward pass: softmax and
// SwiGLU, both built on one vector exp. exp(x) = 2^n · e^r with n = round(x
// log2 e) and |r| <= ln2/2, e^r from Cephes' expf polynomial (within about
// one ulp of the float64 math.Exp rounded to float32). x is clamped to
// [-87.34, 88], so that 2^n stays a normal float: exp of anything smaller
// is 2^-126 instead of 0, which no sum of probabilities can see.

DATA expc<>+0(SB)/4, $0x3fb8aa3b
DATA expc<>+4(SB)/4, $0x3fb8aa3b
DATA expc<>+8(SB)/4, $0x3fb8aa3b
DATA expc<>+12(SB)/4, $0x3fb8aa3b
DATA expc<>+16(SB)/4, $0x3fb8aa3b
DATA expc<>+20(SB)/4, $0x3fb8aa3b
DATA expc<>+24(SB)/4, $0x3fb8aa3b
DATA expc<>+28(SB)/4, $0x3fb8aa3b
DATA expc<>+32(SB)/4, $0x3f318000
DATA expc<>+36(SB)/4, $0x3f318000
DATA expc<>+40(SB)/4, $0x3f318000
DATA expc<>+44(SB)/4, $0x3f318000
DATA expc<>+48(SB)/4, $0x3f318000
DATA expc<>+52(SB)/4, $0x3f318000
DATA expc<>+56(SB)/4, $0x3f318000
DATA expc<>+60(SB)/4, $0x3f318000
DATA expc<>+64(SB)/4, $0xb95e8083
DATA expc<>+68(SB)/4, $0xb95e8083
DATA expc<>+72(SB)/4, $0xb95e8083
DATA expc<>+76(SB)/4, $0xb95e8083
DATA expc<>+80(SB)/4, $0xb95e8083
DATA expc<>+84(SB)/4, $0xb95e8083
DATA expc<>+88(SB)/4, $0xb95e8083
DATA expc<>+92(SB)/4, $0xb95e8083
DATA expc<>+96(SB)/4, $0x39506967
DATA expc<>+100(SB)/4, $0x39506967
DATA expc<>+104(SB)/4, $0x39506967
DATA expc<>+108(SB)/4, $0x39506967
DATA expc<>+112(SB)/4, $0x39506967
DATA expc<>+116(SB)/4, $0x39506967
DATA expc<>+120(SB)/4, $0x39506967
DATA expc<>+124(SB)/4, $0x39506967
DATA expc<>+128(SB)/4, $0x3ab743ce
DATA expc<>+132(SB)/4, $0x3ab743ce
DATA expc<>+136(SB)/4, $0x3ab743ce
DATA expc<>+140(SB)/4, $0x3ab743ce
DATA expc<>+144(SB)/4, $0x3ab743ce
DATA expc<>+148(SB)/4, $0x3ab743ce
DATA expc<>+152(SB)/4, $0x3ab743ce
DATA expc<>+156(SB)/4, $0x3ab743ce
DATA expc<>+160(SB)/4, $0x3c088908
DATA expc<>+164(SB)/4, $0x3c088908
DATA expc<>+168(SB)/4, $0x3c088908
DATA expc<>+172(SB)/4, $0x3c088908
DATA expc<>+176(SB)/4, $0x3c088908
DATA expc<>+180(SB)/4, $0x3c088908
DATA expc<>+184(SB)/4, $0x3c088908
DATA expc<>+188(SB)/4, $0x3c088908
DATA expc<>+192(SB)/4, $0x3d2aa9c1
DATA expc<>+196(SB)/4, $0x3d2aa9c1
DATA expc<>+200(SB)/4, $0x3d2aa9c1
DATA expc<>+204(SB)/4, $0x3d2aa9c1
DATA expc<>+208(SB)/4, $0x3d2aa9c1
DATA expc<>+212(SB)/4, $0x3d2aa9c1
DATA expc<>+216(SB)/4, $0x3d2aa9c1
DATA expc<>+220(SB)/4, $0x3d2aa9c1
DATA expc<>+224(SB)/4, $0x3e2aaaaa
DATA expc<>+228(SB)/4, $0x3e2aaaaa
DATA expc<>+232(SB)/4, $0x3e2aaaaa
DATA expc<>+236(SB)/4, $0x3e2aaaaa
DATA expc<>+240(SB)/4, $0x3e2aaaaa
DATA expc<>+244(SB)/4, $0x3e2aaaaa
DATA expc<>+248(SB)/4, $0x3e2aaaaa
DATA expc<>+252(SB)/4, $0x3e2aaaaa
DATA expc<>+256(SB)/4, $0x3f000000
DATA expc<>+260(SB)/4, $0x3f000000
DATA expc<>+264(SB)/4, $0x3f000000
DATA expc<>+268(SB)/4, $0x3f000000
DATA expc<>+272(SB)/4, $0x3f000000
DATA expc<>+276(SB)/4, $0x3f000000
DATA expc<>+280(SB)/4, $0x3f000000
DATA expc<>+284(SB)/4, $0x3f000000
DATA expc<>+288(SB)/4, $0x42b00000
DATA expc<>+292(SB)/4, $0x42b00000
DATA expc<>+296(SB)/4, $0x42b00000
DATA expc<>+300(SB)/4, $0x42b00000
DATA expc<>+304(SB)/4, $0x42b00000
DATA expc<>+308(SB)/4, $0x42b00000
DATA expc<>+312(SB)/4, $0x42b00000
DATA expc<>+316(SB)/4, $0x42b00000
DATA expc<>+320(SB)/4, $0xc2aeac50
DATA expc<>+324(SB)/4, $0xc2aeac50
DATA expc<>+328(SB)/4, $0xc2aeac50
DATA expc<>+332(SB)/4, $0xc2aeac50
DATA expc<>+336(SB)/4, $0xc2aeac50
DATA expc<>+340(SB)/4, $0xc2aeac50
DATA expc<>+344(SB)/4, $0xc2aeac50
DATA expc<>+348(SB)/4, $0xc2aeac50
DATA expc<>+352(SB)/4, $0x3f800000
DATA expc<>+356(SB)/4, $0x3f800000
DATA expc<>+360(SB)/4, $0x3f800000
DATA expc<>+364(SB)/4, $0x3f800000
DATA expc<>+368(SB)/4, $0x3f800000
DATA expc<>+372(SB)/4, $0x3f800000
DATA expc<>+376(SB)/4, $0x3f800000
DATA expc<>+380(SB)/4, $0x3f800000
DATA expc<>+384(SB)/4, $0xff800000
DATA expc<>+388(SB)/4, $0xff800000
DATA expc<>+392(SB)/4, $0xff800000
DATA expc<>+396(SB)/4, $0xff800000
DATA expc<>+400(SB)/4, $0xff800000
DATA expc<>+404(SB)/4, $0xff800000
DATA expc<>+408(SB)/4, $0xff800000
DATA expc<>+412(SB)/4, $0xff800000
DATA expc<>+416(SB)/4, $0x0000007f
DATA expc<>+420(SB)/4, $0x0000007f
DATA expc<>+424(SB)/4, $0x0000007f
DATA expc<>+428(SB)/4, $0x0000007f
DATA expc<>+432(SB)/4, $0x0000007f
DATA expc<>+436(SB)/4, $0x0000007f
DATA expc<>+440(SB)/4, $0x0000007f
DATA expc<>+444(SB)/4, $0x0000007f
GLOBL expc<>(SB), RODATA|NOPTR, $448

// masks<>+32-4r holds r all-ones lanes followed by zeros: the mask of a tail of r values.
DATA masks<>+0(SB)/4, $0xffffffff
DATA masks<>+4(SB)/4, $0xffffffff
DATA masks<>+8(SB)/4, $0xffffffff
DATA masks<>+12(SB)/4, $0xffffffff
DATA masks<>+16(SB)/4, $0xffffffff
DATA masks<>+20(SB)/4, $0xffffffff
DATA masks<>+24(SB)/4, $0xffffffff
DATA masks<>+28(SB)/4, $0xffffffff
DATA masks<>+32(SB)/4, $0x00000000
DATA masks<>+36(SB)/4, $0x00000000
DATA masks<>+40(SB)/4, $0x00000000
DATA masks<>+44(SB)/4, $0x00000000
DATA masks<>+48(SB)/4, $0x00000000
DATA masks<>+52(SB)/4, $0x00000000
DATA masks<>+56(SB)/4, $0x00000000
DATA masks<>+60(SB)/4, $0x00000000
GLOBL masks<>(SB), RODATA|NOPTR, $64

// EXP sets Y0 = exp(Y0), using Y1-Y3.
#define EXP \
	VMINPS expc<>+288(SB), Y0, Y0; \
	VMAXPS expc<>+320(SB), Y0, Y0; \
	VMULPS expc<>+0(SB), Y0, Y1; \
	VROUNDPS $0, Y1, Y1; \
	VFNMADD231PS expc<>+32(SB), Y1, Y0; \
	VFNMADD231PS expc<>+64(SB), Y1, Y0; \
	VMOVUPS expc<>+96(SB), Y2; \
	VFMADD213PS expc<>+128(SB), Y0, Y2; \
	VFMADD213PS expc<>+160(SB), Y0, Y2; \
	VFMADD213PS expc<>+192(SB), Y0, Y2; \
	VFMADD213PS expc<>+224(SB), Y0, Y2; \
	VFMADD213PS expc<>+256(SB), Y0, Y2; \
	VMULPS Y0, Y0, Y3; \
	VFMADD213PS Y0, Y3, Y2; \
	VADDPS expc<>+352(SB), Y2, Y2; \
	VCVTPS2DQ Y1, Y1; \
	VPADDD expc<>+416(SB), Y1, Y1; \
	VPSLLD $23, Y1, Y1; \
	VMULPS Y1, Y2, Y0

// HREDUCE sets every lane of reg to OP of all its lanes, in a fixed order.
#define HREDUCE(OP, reg) \
	VPERM2F128 $1, reg, reg, Y1; \
	OP Y1, reg, reg; \
	VPERMILPS $0x4e, reg, Y1; \
	OP Y1, reg, reg; \
	VPERMILPS $0xb1, reg, Y1; \
	OP Y1, reg, reg

// TAILMASK sets Y7 to the mask of the last n%8 values and splits n (CX)
// into full vectors (CX) and the tail length (BX).
#define TAILMASK \
	MOVQ CX, BX; \
	ANDQ $7, BX; \
	SHRQ $3, CX; \
	LEAQ masks<>+32(SB), AX; \
	MOVQ BX, DX; \
	SHLQ $2, DX; \
	SUBQ DX, AX; \
	VMOVUPS (AX), Y7

// func softmaxAVX2(x *float32, n int)
TEXT ·softmaxAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	TAILMASK

	// the maximum, into every lane of Y4
	VMOVUPS expc<>+384(SB), Y4
	MOVQ SI, DI
	MOVQ CX, DX
max_loop:
	TESTQ DX, DX
	JZ max_tail
	VMAXPS (DI), Y4, Y4
	ADDQ $32, DI
	DECQ DX
	JMP max_loop
max_tail:
	TESTQ BX, BX
	JZ max_done
	VMASKMOVPS (DI), Y7, Y0
	VMOVUPS expc<>+384(SB), Y1
	VBLENDVPS Y7, Y0, Y1, Y0
	VMAXPS Y0, Y4, Y4
max_done:
	HREDUCE(VMAXPS, Y4)

	// x = exp(x - max), summed into Y5
	VXORPS Y5, Y5, Y5
	MOVQ SI, DI
	MOVQ CX, DX
exp_loop:
	TESTQ DX, DX
	JZ exp_tail
	VMOVUPS (DI), Y0
	VSUBPS Y4, Y0, Y0
	EXP
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y5, Y5
	ADDQ $32, DI
	DECQ DX
	JMP exp_loop
exp_tail:
	TESTQ BX, BX
	JZ exp_done
	VMASKMOVPS (DI), Y7, Y0
	VSUBPS Y4, Y0, Y0
	EXP
	VANDPS Y7, Y0, Y0
	VMASKMOVPS Y0, Y7, (DI)
	VADDPS Y0, Y5, Y5
exp_done:
	HREDUCE(VADDPS, Y5)

	// x /= sum
	MOVQ SI, DI
	MOVQ CX, DX
div_loop:
	TESTQ DX, DX
	JZ div_tail
	VMOVUPS (DI), Y0
	VDIVPS Y5, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ DX
	JMP div_loop
div_tail:
	TESTQ BX, BX
	JZ div_done
	VMASKMOVPS (DI), Y7, Y0
	VDIVPS Y5, Y0, Y0
	VMASKMOVPS Y0, Y7, (DI)
div_done:
	VZEROUPPER
	RET

// func swiGLUAVX2(gate *float32, up *float32, n int)
TEXT ·swiGLUAVX2(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), SI
	MOVQ up+8(FP), DI
	MOVQ n+16(FP), CX
	TAILMASK
	VMOVUPS expc<>+352(SB), Y5
silu_loop:
	TESTQ CX, CX
	JZ silu_tail
	VMOVUPS (SI), Y6
	VXORPS Y0, Y0, Y0
	VSUBPS Y6, Y0, Y0
	EXP
	VADDPS Y5, Y0, Y0
	VDIVPS Y0, Y6, Y6
	VMULPS (DI), Y6, Y6
	VMOVUPS Y6, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JMP silu_loop
silu_tail:
	TESTQ BX, BX
	JZ silu_done
	VMASKMOVPS (SI), Y7, Y6
	VMASKMOVPS (DI), Y7, Y4
	VXORPS Y0, Y0, Y0
	VSUBPS Y6, Y0, Y0
	EXP
	VADDPS Y5, Y0, Y0
	VDIVPS Y0, Y6, Y6
	VMULPS Y4, Y6, Y6
	VMASKMOVPS Y6, Y7, (SI)
silu_done:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x *float32, n int) float32
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	TAILMASK
	VXORPS Y5, Y5, Y5
ss_loop:
	TESTQ CX, CX
	JZ ss_tail
	VMOVUPS (SI), Y0
	VFMADD231PS Y0, Y0, Y5
	ADDQ $32, SI
	DECQ CX
	JMP ss_loop
ss_tail:
	TESTQ BX, BX
	JZ ss_done
	VMASKMOVPS (SI), Y7, Y0
	VFMADD231PS Y0, Y0, Y5
ss_done:
	HREDUCE(VADDPS, Y5)
	MOVSS X5, ret+16(FP)
	VZEROUPPER
	RET

// func scaleByAVX2(out *float32, x *float32, weight *float32, n int, s float32)
TEXT ·scaleByAVX2(SB), NOSPLIT, $0-36
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ weight+16(FP), R8
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y4
	TAILMASK
sc_loop:
	TESTQ CX, CX
	JZ sc_tail
	VMULPS (SI), Y4, Y0
	VMULPS (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, DI
	DECQ CX
	JMP sc_loop
sc_tail:
	TESTQ BX, BX
	JZ sc_done
	VMASKMOVPS (SI), Y7, Y0
	VMASKMOVPS (R8), Y7, Y1
	VMULPS Y0, Y4, Y0
	VMULPS Y1, Y0, Y0
	VMASKMOVPS Y0, Y7, (DI)
sc_done:
	VZEROUPPER
	RET

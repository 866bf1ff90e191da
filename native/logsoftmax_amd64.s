//go:build !noasm

#include "textflag.h"

// expSumAVX2 is the sum behind logSoftmaxAt: Σ exp(float64(x[i] - m)) over
// n values (a multiple of 8), eight at a time in two groups of four float64 lanes, to float64
// accuracy. exp(y) = 2^k · e^r with k = round(y log2 e) and r = y - k ln2
// (ln2 split in two, as Go's math.Exp does), e^r by its Taylor polynomial
// of degree 12 (truncation under 2e-16 for |r| <= ln2/2), 2^k built in the
// exponent bits. y is clamped at -708, where exp is 3e-308: nothing a sum
// that holds exp(0) = 1 can see.
//
// expd holds float64 constants, each in four lanes (32 bytes): log2 e,
// ln2 high and low parts (Go's math.Ln2Hi and Ln2Lo), -708,
// 2^52 + 2^51 + 1023 (added to k, it leaves k + 1023 in the low mantissa
// bits), then 1/0! ... 1/12!.

DATA expd<>+0(SB)/8, $0x3ff71547652b82fe
DATA expd<>+8(SB)/8, $0x3ff71547652b82fe
DATA expd<>+16(SB)/8, $0x3ff71547652b82fe
DATA expd<>+24(SB)/8, $0x3ff71547652b82fe
DATA expd<>+32(SB)/8, $0x3fe62e42fee00000
DATA expd<>+40(SB)/8, $0x3fe62e42fee00000
DATA expd<>+48(SB)/8, $0x3fe62e42fee00000
DATA expd<>+56(SB)/8, $0x3fe62e42fee00000
DATA expd<>+64(SB)/8, $0x3dea39ef35793c76
DATA expd<>+72(SB)/8, $0x3dea39ef35793c76
DATA expd<>+80(SB)/8, $0x3dea39ef35793c76
DATA expd<>+88(SB)/8, $0x3dea39ef35793c76
DATA expd<>+96(SB)/8, $0xc086200000000000
DATA expd<>+104(SB)/8, $0xc086200000000000
DATA expd<>+112(SB)/8, $0xc086200000000000
DATA expd<>+120(SB)/8, $0xc086200000000000
DATA expd<>+128(SB)/8, $0x43380000000003ff
DATA expd<>+136(SB)/8, $0x43380000000003ff
DATA expd<>+144(SB)/8, $0x43380000000003ff
DATA expd<>+152(SB)/8, $0x43380000000003ff
DATA expd<>+160(SB)/8, $0x3ff0000000000000
DATA expd<>+168(SB)/8, $0x3ff0000000000000
DATA expd<>+176(SB)/8, $0x3ff0000000000000
DATA expd<>+184(SB)/8, $0x3ff0000000000000
DATA expd<>+192(SB)/8, $0x3ff0000000000000
DATA expd<>+200(SB)/8, $0x3ff0000000000000
DATA expd<>+208(SB)/8, $0x3ff0000000000000
DATA expd<>+216(SB)/8, $0x3ff0000000000000
DATA expd<>+224(SB)/8, $0x3fe0000000000000
DATA expd<>+232(SB)/8, $0x3fe0000000000000
DATA expd<>+240(SB)/8, $0x3fe0000000000000
DATA expd<>+248(SB)/8, $0x3fe0000000000000
DATA expd<>+256(SB)/8, $0x3fc5555555555555
DATA expd<>+264(SB)/8, $0x3fc5555555555555
DATA expd<>+272(SB)/8, $0x3fc5555555555555
DATA expd<>+280(SB)/8, $0x3fc5555555555555
DATA expd<>+288(SB)/8, $0x3fa5555555555555
DATA expd<>+296(SB)/8, $0x3fa5555555555555
DATA expd<>+304(SB)/8, $0x3fa5555555555555
DATA expd<>+312(SB)/8, $0x3fa5555555555555
DATA expd<>+320(SB)/8, $0x3f81111111111111
DATA expd<>+328(SB)/8, $0x3f81111111111111
DATA expd<>+336(SB)/8, $0x3f81111111111111
DATA expd<>+344(SB)/8, $0x3f81111111111111
DATA expd<>+352(SB)/8, $0x3f56c16c16c16c17
DATA expd<>+360(SB)/8, $0x3f56c16c16c16c17
DATA expd<>+368(SB)/8, $0x3f56c16c16c16c17
DATA expd<>+376(SB)/8, $0x3f56c16c16c16c17
DATA expd<>+384(SB)/8, $0x3f2a01a01a01a01a
DATA expd<>+392(SB)/8, $0x3f2a01a01a01a01a
DATA expd<>+400(SB)/8, $0x3f2a01a01a01a01a
DATA expd<>+408(SB)/8, $0x3f2a01a01a01a01a
DATA expd<>+416(SB)/8, $0x3efa01a01a01a01a
DATA expd<>+424(SB)/8, $0x3efa01a01a01a01a
DATA expd<>+432(SB)/8, $0x3efa01a01a01a01a
DATA expd<>+440(SB)/8, $0x3efa01a01a01a01a
DATA expd<>+448(SB)/8, $0x3ec71de3a556c734
DATA expd<>+456(SB)/8, $0x3ec71de3a556c734
DATA expd<>+464(SB)/8, $0x3ec71de3a556c734
DATA expd<>+472(SB)/8, $0x3ec71de3a556c734
DATA expd<>+480(SB)/8, $0x3e927e4fb7789f5c
DATA expd<>+488(SB)/8, $0x3e927e4fb7789f5c
DATA expd<>+496(SB)/8, $0x3e927e4fb7789f5c
DATA expd<>+504(SB)/8, $0x3e927e4fb7789f5c
DATA expd<>+512(SB)/8, $0x3e5ae64567f544e4
DATA expd<>+520(SB)/8, $0x3e5ae64567f544e4
DATA expd<>+528(SB)/8, $0x3e5ae64567f544e4
DATA expd<>+536(SB)/8, $0x3e5ae64567f544e4
DATA expd<>+544(SB)/8, $0x3e21eed8eff8d898
DATA expd<>+552(SB)/8, $0x3e21eed8eff8d898
DATA expd<>+560(SB)/8, $0x3e21eed8eff8d898
DATA expd<>+568(SB)/8, $0x3e21eed8eff8d898
GLOBL expd<>(SB), RODATA|NOPTR, $576

// func expSumAVX2(x *float32, n int, m float32) float64
TEXT ·expSumAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VBROADCASTSS m+16(FP), X8
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15
es_loop:
	TESTQ CX, CX
	JZ es_done
	// two groups of four lanes, interleaved so that their polynomials
	// overlap: Y0-Y2 for x[0:4], Y4-Y6 for x[4:8]; in each, Y0 = y then r,
	// Y1 = k then 2^k, Y2 = e^r
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X4
	VSUBPS X8, X0, X0
	VSUBPS X8, X4, X4
	VCVTPS2PD X0, Y0
	VCVTPS2PD X4, Y4
	VMAXPD expd<>+96(SB), Y0, Y0
	VMAXPD expd<>+96(SB), Y4, Y4
	VMULPD expd<>+0(SB), Y0, Y1
	VMULPD expd<>+0(SB), Y4, Y5
	VROUNDPD $0, Y1, Y1
	VROUNDPD $0, Y5, Y5
	VFNMADD231PD expd<>+32(SB), Y1, Y0
	VFNMADD231PD expd<>+32(SB), Y5, Y4
	VFNMADD231PD expd<>+64(SB), Y1, Y0
	VFNMADD231PD expd<>+64(SB), Y5, Y4
	VMOVUPD expd<>+544(SB), Y2
	VMOVUPD expd<>+544(SB), Y6
	VFMADD213PD expd<>+512(SB), Y0, Y2
	VFMADD213PD expd<>+512(SB), Y4, Y6
	VFMADD213PD expd<>+480(SB), Y0, Y2
	VFMADD213PD expd<>+480(SB), Y4, Y6
	VFMADD213PD expd<>+448(SB), Y0, Y2
	VFMADD213PD expd<>+448(SB), Y4, Y6
	VFMADD213PD expd<>+416(SB), Y0, Y2
	VFMADD213PD expd<>+416(SB), Y4, Y6
	VFMADD213PD expd<>+384(SB), Y0, Y2
	VFMADD213PD expd<>+384(SB), Y4, Y6
	VFMADD213PD expd<>+352(SB), Y0, Y2
	VFMADD213PD expd<>+352(SB), Y4, Y6
	VFMADD213PD expd<>+320(SB), Y0, Y2
	VFMADD213PD expd<>+320(SB), Y4, Y6
	VFMADD213PD expd<>+288(SB), Y0, Y2
	VFMADD213PD expd<>+288(SB), Y4, Y6
	VFMADD213PD expd<>+256(SB), Y0, Y2
	VFMADD213PD expd<>+256(SB), Y4, Y6
	VFMADD213PD expd<>+224(SB), Y0, Y2
	VFMADD213PD expd<>+224(SB), Y4, Y6
	VFMADD213PD expd<>+192(SB), Y0, Y2
	VFMADD213PD expd<>+192(SB), Y4, Y6
	VFMADD213PD expd<>+160(SB), Y0, Y2
	VFMADD213PD expd<>+160(SB), Y4, Y6
	VADDPD expd<>+128(SB), Y1, Y1
	VADDPD expd<>+128(SB), Y5, Y5
	VPSLLQ $52, Y1, Y1
	VPSLLQ $52, Y5, Y5
	VMULPD Y1, Y2, Y2
	VMULPD Y5, Y6, Y6
	VADDPD Y2, Y14, Y14
	VADDPD Y6, Y15, Y15
	ADDQ $32, SI
	DECQ CX
	JMP es_loop
es_done:
	VADDPD Y15, Y14, Y14
	VEXTRACTF128 $1, Y14, X1
	VADDPD X1, X14, X14
	VPERMILPD $1, X14, X1
	VADDSD X1, X14, X14
	VMOVSD X14, ret+24(FP)
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) float32
// The largest of n values (a multiple of 32), in four independent chains.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $5, CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
mx_loop:
	TESTQ CX, CX
	JZ mx_done
	VMAXPS (SI), Y0, Y0
	VMAXPS 32(SI), Y1, Y1
	VMAXPS 64(SI), Y2, Y2
	VMAXPS 96(SI), Y3, Y3
	ADDQ $128, SI
	DECQ CX
	JMP mx_loop
mx_done:
	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

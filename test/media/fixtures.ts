// Real codec configuration records, captured once from ffmpeg 5.1 (libx264 / libx265 / libaom / aac)
// and pasted as annotated hex so the tests never need ffmpeg. Whitespace and `|` are cosmetic.

/** Joins annotated hex fragments into a Buffer. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/[\s|]/g, ''), 'hex');
}

// `ffmpeg -f lavfi -i testsrc2=size=1280x720:rate=30 -c:v libx264 -profile:v high -f flv` first video tag body.
export const AVC_TAG_720P = hex(
  '17', //             FrameType 1 (key) | CodecID 7 (AVC)
  '00', //             AVCPacketType 0 (sequence header)
  '000000', //         CompositionTime 0
  // AVCDecoderConfigurationRecord
  '01 64 00 1f', //    version 1, profile 100 (High), compatibility 0, level 31
  'ff', //             reserved 111111 | lengthSizeMinusOne 3
  'e1', //             reserved 111 | numOfSequenceParameterSets 1
  '001a', //           SPS length 26
  '67 64001f acd9405005bb0110 000003 0010 000003 03c0f1831960', // SPS (NAL 7), two emulation-prevention 03s
  '01 0006', //        numOfPictureParameterSets 1, PPS length 6
  '68ebe3cb22c0', //   PPS (NAL 8)
  'fd f8 f8 00', //    High extension: chroma_format 1, bit_depth_luma 8, bit_depth_chroma 8, 0 SPS-ext
);
export const AVC_RECORD_720P = AVC_TAG_720P.subarray(5);

// 1920x1080 High@4.0 25 fps: coded as 68 rows of macroblocks (1088) with frame_crop_bottom_offset 4.
export const AVC_RECORD_1080P = hex(
  '01 64 00 28 ff e1', // version, High, level 40, 4-byte lengths, 1 SPS
  '001b 67640028 acd940780227e5c04400000300040000 0300c83c60c658', // SPS
  '01 0006 68ebe3cb22c0', // PPS
  'fd f8 f8 00',
);

// Same, interlaced (-flags +ildct+ilme): frame_mbs_only_flag 0, 34 map units of 32 lines, crop in field units.
export const AVC_RECORD_1080I = hex(
  '01 64 00 28 ff e1',
  '001a 67640028 acd94078044fde0220000003002000000643e2c5b2c0',
  '01 0006 68fba3cb22c0',
  'fd f8 f8 00',
);

// 854x480 Main@3.1 at 30000/1001: width is 54 MBs (864) cropped by 5 chroma units (10 px) on the right.
export const AVC_RECORD_854X480 = hex(
  '01 4d 40 1f ff e1', // Main, constraint_set1, level 31
  '0017 674d401f eca06c1ef37808800001f480007530078c18cb',
  '01 0005 68ebe3cb20',
);

// 320x240 Constrained Baseline@1.2, 15 fps: no High-profile extension bytes after the PPS.
export const AVC_RECORD_320X240 = hex(
  '01 42 c0 0c ff e1', // Baseline, constraint_set0+1, level 12
  '0018 6742c00c d90141fb0110000003001000000301e0f142a480',
  '01 0005 68cb83cb20',
);

// 640x360 High 4:4:4 Predictive (-pix_fmt yuv444p): chroma_format_idc 3, crop unit 1x1 (360 = 368 - 8).
export const AVC_RECORD_444 = hex(
  '01 f4 00 1e ff e1',
  '001b 67f4001e 919b281405ff138088000003000800000301e078b16cb0',
  '01 0006 68ebe3c44844',
  'ff f8 f8 00', // chroma_format 3
);

// hvcC of `-c:v libx265 -tag:v hvc1` 1280x720 30 fps, Main@3.1. The encoder's 2.3 KB SEI array (x265
// version banner) is dropped and numOfArrays lowered from 4 to 3; everything else is byte-exact.
export const HEVC_RECORD_720P = hex(
  '01', //                    configurationVersion
  '01 60000000 900000000000 5d', // profile_space 0, tier 0, profile 1 | compat flags 1,2 | constraints | level 93
  'f000 fc fd f8 f8', //      min_spatial_segmentation 0, parallelism 0, chroma 1, luma/chroma depth 8
  '0000 0f', //               avgFrameRate 0 | constantFrameRate 0, 1 temporal layer, nested, 4-byte lengths
  '03', //                    numOfArrays
  'a0 0001 0018', //          array: complete, NAL type 32 (VPS), 1 NAL of 24 bytes
  '40010c01ffff01600000030090000003000003005d959809',
  'a1 0001 002b', //          NAL type 33 (SPS), 43 bytes
  '42010101600000030090000003000003005da00280802d165959a4932bc05a020000030002000003003c10',
  'a2 0001 0007', //          NAL type 34 (PPS), 7 bytes
  '4401c172b46240',
);

// 1920x1080 60 fps Main 10 (-pix_fmt yuv420p10le), level 4.1, SEI array dropped as above.
export const HEVC_RECORD_1080P_MAIN10 = hex(
  '01 02 20000000 900000000000 7b', // profile 2 (Main 10), compat flag 2 | level 123
  'f000 fc fd fa fa 0000 0f 03', //   chroma 1, depths 10/10
  'a0 0001 0018 40010c01ffff02200000030090000003000003007b959809',
  'a1 0001 002c 42010102200000030090000003000003007ba003c08010e4d96566924caf016808000003000800000301e040',
  'a2 0001 0007 4401c172b46240',
);

// 854x480 Main: 856 luma samples wide with conf_win_right_offset 1 (x2 chroma units).
export const HEVC_RECORD_854X480 = hex(
  '01 01 60000000 900000000000 5a f000 fc fd f8 f8 0000 0f 03', // level 90 (3.0)
  'a0 0001 0018 40010c01ffff01600000030090000003000003005a959809',
  'a1 0001 002a 42010101600000030090000003000003005aa006b201e1d796566924caf0168080000003008000000c84',
  'a2 0001 0007 4401c172b46240',
);

// av1C of `-c:v libaom-av1` 320x240 (no timing info in the sequence header).
export const AV1_RECORD_320X240 = hex(
  '81', //        marker 1 | version 1
  '00', //        seq_profile 0 | seq_level_idx_0 0
  '0c', //        tier 0, 8-bit, not mono, subsampling 1/1, position 0
  '00', //        no initial_presentation_delay
  '0a 0b', //     OBU header: type 1 (sequence header), has_size_field | size 11
  '000000043cffbcdaf90040', // sequence_header_obu
);

// AudioSpecificConfigs. ffmpeg's native encoder appends a backward-compatible SBR sync extension
// (0x2b7, extension AOT 5, sbrPresentFlag 0), which must NOT turn LC into HE-AAC.
export const AAC_TAG_44100 = hex('af', '00', '1210 56e500'); // AAC, 44 kHz/16-bit/stereo | seq header | ASC
export const ASC_LC_44100 = hex('1210'); //     00010 0100 0010 000: AOT 2, index 4 (44100), 2 channels
export const ASC_LC_48000 = hex('1190'); //     00010 0011 0010 000: AOT 2, index 3 (48000), 2 channels
export const ASC_LC_48000_FFMPEG = hex('1190 56e500');
// Explicit hierarchical HE-AAC: AOT 5, core index 6 (24000), 2 ch, extension index 3 (48000), core AOT 2.
export const ASC_HE_AAC_EXPLICIT = hex('2b11 8800');
// Explicit HE-AACv2: AOT 29, core 24000 mono, extension 48000, core AOT 2 → stereo at 48 kHz.
export const ASC_HE_AAC_V2_EXPLICIT = hex('eb09 8800');
// Backward-compatible HE-AAC: LC 24000 stereo, then sync 0x2b7, AOT 5, sbrPresentFlag 1, index 3 (48000).
export const ASC_HE_AAC_IMPLICIT = hex('1310 56e598');

// ---- VP9 and AC-3 (ffmpeg 5.1 with libvpx-vp9 and its ac3 encoder, MP4 muxer for vpcC) ----

export const VPCC_320X180 = hex(
  '01 000000', // FullBox: version 1, flags 0
  '00 | 0b', // profile 0, level 11 (1.1)
  '82', // bitDepth 8 (4 bits) | chromaSubsampling 1 (4:2:0 colocated, 3 bits) | videoFullRangeFlag 0
  '02 02 02', // colourPrimaries, transferCharacteristics, matrixCoefficients: 2 (unspecified)
  '0000', // codecIntializationDataSize 0
);

export const VP9_KEYFRAME_320X180 = hex(
  '82', // frame_marker 2 | profile 0 (low, high bit) | show_existing_frame 0 | frame_type 0 (key) | show_frame 1 | error_resilient 0
  '49 83 42', // frame_sync_code
  '00 13 f0 0b 36', // color_space 0, color_range 0 | frame_width_minus_1 319 | frame_height_minus_1 179 | …
  '04 38 24 1c 18 4a 00',
);

/** An AC-3 syncframe start as ffmpeg 5.1 encodes 48 kHz 5.1. */
export const AC3_FRAME_48K_51 = hex(
  '0b77 | b50b', // syncword | crc1
  '1e', // fscod 0 (48 kHz) | frmsizecod 30
  '40', // bsid 8 | bsmod 0
  'eb f8 40 3e', // acmod 7 (3/2), cmixlev, surmixlev, lfeon 1 | …
);

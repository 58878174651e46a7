namespace DeviceShell.Engine.Gateway;

/// <summary>Suprema device models (gsdk.device.Type numbers). The gateway's alias ENTRY_MAX (5) shows as XpassS2.</summary>
public enum GatewayDeviceType
{
    /// <summary>G-SDK's UNDEFINED (0): no model given.</summary>
    Undefined = 0,
    /// <summary>BioEntry Plus.</summary>
    BioentryPlus = 1,
    /// <summary>BioEntry W.</summary>
    BioentryW = 2,
    /// <summary>BioLite Net.</summary>
    BioliteNet = 3,
    /// <summary>XPass.</summary>
    Xpass = 4,
    /// <summary>XPass S2 (also the gateway's alias ENTRY_MAX).</summary>
    XpassS2 = 5,
    /// <summary>Secure I/O 2 module.</summary>
    SecureIo2 = 6,
    /// <summary>DM-20 door module.</summary>
    DoorModule20 = 7,
    /// <summary>BioStation 2.</summary>
    Biostation2 = 8,
    /// <summary>BioStation A2.</summary>
    BiostationA2 = 9,
    /// <summary>FaceStation 2.</summary>
    Facestation2 = 10,
    /// <summary>An I/O device.</summary>
    IoDevice = 11,
    /// <summary>BioStation L2.</summary>
    BiostationL2 = 12,
    /// <summary>BioEntry W2.</summary>
    BioentryW2 = 13,
    /// <summary>G-SDK's RS485_SLAVE (128): a device known only as an RS-485 slave of another.</summary>
    Rs485Slave = 128,
    /// <summary>CoreStation 40 controller.</summary>
    Corestation40 = 14,
    /// <summary>Output module.</summary>
    OutputModule = 15,
    /// <summary>Input module.</summary>
    InputModule = 16,
    /// <summary>BioEntry P2.</summary>
    BioentryP2 = 17,
    /// <summary>BioLite N2.</summary>
    BioliteN2 = 18,
    /// <summary>XPass 2.</summary>
    Xpass2 = 19,
    /// <summary>XPass S3.</summary>
    XpassS3 = 20,
    /// <summary>BioEntry R2.</summary>
    BioentryR2 = 21,
    /// <summary>XPass D2.</summary>
    XpassD2 = 22,
    /// <summary>DM-21 door module.</summary>
    DoorModule21 = 23,
    /// <summary>XPass D2 with keypad.</summary>
    XpassD2Keypad = 24,
    /// <summary>FaceLite.</summary>
    Facelite = 25,
    /// <summary>XPass 2 with keypad.</summary>
    Xpass2Keypad = 26,
    /// <summary>XPass D2, later hardware revision.</summary>
    XpassD2Rev = 27,
    /// <summary>XPass D2 with keypad, later hardware revision.</summary>
    XpassD2KeypadRev = 28,
    /// <summary>FaceStation F2 with fingerprint sensor.</summary>
    FacestationF2Fp = 29,
    /// <summary>FaceStation F2.</summary>
    FacestationF2 = 30,
    /// <summary>X-Station 2 with QR reader.</summary>
    Xstation2Qr = 31,
    /// <summary>X-Station 2.</summary>
    Xstation2 = 32,
    /// <summary>IM-120 input module.</summary>
    Im120 = 33,
    /// <summary>X-Station 2 with fingerprint sensor.</summary>
    Xstation2Fp = 34,
    /// <summary>BioStation 3.</summary>
    Biostation3 = 35,
    /// <summary>BioStation 2a.</summary>
    Biostation2a = 38,
    /// <summary>BioEntry W3.</summary>
    BioentryW3 = 42,
    /// <summary>CoreStation 20 controller.</summary>
    Corestation20 = 43,
    /// <summary>DI-24 door interface.</summary>
    DoorInterface24 = 44,
    /// <summary>BioStation 3 Max.</summary>
    Biostation3Max = 45,
    /// <summary>BioStation 3 Max with fingerprint sensor.</summary>
    Biostation3MaxFp = 46,
    /// <summary>XPass Q2.</summary>
    XpassQ2 = 47,
    /// <summary>G-SDK's UNKNOWN (255): the gateway could not tell the model. A number not listed here shows as itself.</summary>
    Unknown = 255,
}
